#include "aeflow/train/stop_request.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <mutex>
#include <thread>

namespace aeflow::train {

StopRequest& signal_stop_request() {
  static StopRequest request;
  return request;
}

// The handler's crash was reproduced with a timer signal alone, in the metrics' PCA (oneDNN's
// first sgemm call). The stop signals are blocked here, so in every thread started later (MPI's,
// OpenMP's), and one thread of ours takes them with sigwait.
void install_stop_signal_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t stops;
    sigemptyset(&stops);
    for (int signal : {SIGTERM, SIGUSR1, SIGINT}) sigaddset(&stops, signal);
    pthread_sigmask(SIG_BLOCK, &stops, nullptr);
    std::thread([stops] {
      StopRequest& request = signal_stop_request();
      for (;;) {
        int received = 0;
        if (sigwait(&stops, &received) != 0) continue;
        // A second Ctrl-C means now: the exit status a shell expects of SIGINT.
        if (received == SIGINT && request.signal() == SIGINT) std::_Exit(128 + SIGINT);
        request.request(received);
      }
    }).detach();
  });
}

}  // namespace aeflow::train
