// Sums gradient buckets across ranks on a thread of its own, so that the reduction of the last
// layers' gradients proceeds while backward computes the first layers'. A non-blocking
// MPI_Iallreduce alone does not overlap: OpenMPI moves data only inside MPI calls, and backward
// makes none. Needs MPI initialized with at least MPI_THREAD_SERIALIZED: while a bucket is in
// flight the owner makes no MPI call of its own (it calls wait() first).
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <thread>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::mpi {

class ReducerThread {
 public:
  explicit ReducerThread(const Communicator& comm);
  ~ReducerThread();
  ReducerThread(const ReducerThread&) = delete;
  ReducerThread& operator=(const ReducerThread&) = delete;

  // Queues an in-place sum of VALUES; they must stay untouched until wait() returns.
  void start(std::span<float> values);
  // Blocks until every queued bucket is reduced; rethrows a failure of the thread.
  void wait();

 private:
  void run();

  Communicator comm_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::deque<std::span<float>> queue_;
  int in_flight_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace aeflow::mpi
