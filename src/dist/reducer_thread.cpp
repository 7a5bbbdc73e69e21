#include "aeflow/dist/reducer_thread.hpp"

#include <utility>

namespace aeflow::dist {

ReducerThread::ReducerThread(const Comm& comm) : comm_(comm), thread_([this] { run(); }) {}

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

}  // namespace aeflow::dist
