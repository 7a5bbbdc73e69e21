#include "aeflow/mpi/reducer_thread.hpp"

#include <mpi.h>

#include <string>
#include <utility>

#include "aeflow/base/error.hpp"

namespace aeflow::mpi {
namespace {

// MPI calls from a second thread need MPI_THREAD_SERIALIZED (aeflow asks for it); an MPI library
// built without thread support may grant less, and then those calls are undefined behaviour.
const Communicator& with_thread_support(const Communicator& comm) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) return comm;  // (no MPI: nothing is reduced)
  int level = MPI_THREAD_SINGLE;
  MPI_Query_thread(&level);
  if (level < MPI_THREAD_SERIALIZED)
    throw InputError(
        "--allreduce thread calls MPI from a second thread, which needs "
        "MPI_THREAD_SERIALIZED; this MPI library grants level " +
        std::to_string(level) + ": use --allreduce overlap");
  return comm;
}

}  // namespace

ReducerThread::ReducerThread(const Communicator& comm)
    : comm_(with_thread_support(comm)), thread_([this] { run(); }) {}

ReducerThread::~ReducerThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ReducerThread::start(std::span<float> values) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(values);
    ++in_flight_;
  }
  wake_.notify_one();
}

void ReducerThread::wait() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return in_flight_ == 0; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void ReducerThread::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    const std::span<float> values = queue_.front();
    queue_.pop_front();
    lock.unlock();
    try {
      comm_.allreduce_sum(values);
    } catch (...) {
      lock.lock();
      error_ = std::current_exception();
      lock.unlock();
    }
    lock.lock();
    if (--in_flight_ == 0) done_.notify_all();
  }
}

}  // namespace aeflow::mpi
