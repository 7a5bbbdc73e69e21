// A request to stop a run after its current step: what a stop signal makes (SIGTERM and SIGUSR1,
// as Slurm sends before a time limit or preemption, and Ctrl-C's SIGINT). A run reads the request
// it is given; one that a process runs many trainings under (a sweep) is reset between them.
#pragma once

#include <atomic>

namespace aeflow::train {

class StopRequest {
 public:
  // The signal that asked (any positive number); lock-free, so a signal thread may call it.
  void request(int signal) { signal_.store(signal); }
  // The signal that asked, 0 if none has.
  int signal() const { return signal_.load(); }
  bool requested() const { return signal() != 0; }
  void reset() { signal_.store(0); }

 private:
  std::atomic<int> signal_{0};
  static_assert(std::atomic<int>::is_always_lock_free);
};

// The process's request, which the stop signals make once install_stop_signal_handlers() ran.
StopRequest& signal_stop_request();

// Makes SIGTERM, SIGUSR1 and SIGINT request a stop (signal_stop_request()); a second SIGINT ends
// the process at once (exit 130). Call it before MPI or OpenMP start threads: it blocks the
// signals in the calling thread, which every later thread inherits, and one thread waits for
// them. (No handler runs on a thread that computes: a handler that interrupted oneDNN 2.6's
// sgemm on the thread's own stack crashed it.)
void install_stop_signal_handlers();

}  // namespace aeflow::train
