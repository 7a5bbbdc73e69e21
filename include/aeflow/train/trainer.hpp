// The training loop of `aeflow train`: data-parallel over the ranks of a Communicator, with
// evaluation, early stopping, checkpoints every N epochs, bit-for-bit resume, and a clean stop on
// SIGTERM or SIGUSR1 (what Slurm sends before a time limit or preemption).
#pragma once

#include <ostream>
#include <string>

#include "aeflow/eval/evaluator.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/stop_request.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::train {

// Exit code of a run stopped by a stop request (a signal) after it wrote a checkpoint.
constexpr int kExitPreempted = 3;

// Why a run ended.
enum class StopReason {
  kDone,           // its epochs (or --steps) are done
  kEarlyStopping,  // the monitored loss stopped improving (this run, or the one it resumed)
  kStopRequest,    // a stop was requested (a signal): checkpoint written, exit kExitPreempted
};

struct TrainResult {
  int exit_code = 0;
  StopReason stop_reason = StopReason::kDone;
  int64_t epochs = 0;  // completed
  int64_t steps = 0;   // optimizer steps in total
  eval::Evaluation test;
  std::string checkpoint;         // the last checkpoint written
  double samples_per_second = 0;  // training steps only (no evaluation, no checkpoints)
  double reduce_fraction = 0;     // share of step time in the gradient all-reduce (slowest rank)
};

// Runs the whole job. LOG receives the progress lines (pass std::cout on rank 0). A request in
// STOP (on any rank) stops the run after the current step, with a checkpoint and
// kExitPreempted; one made before the run starts counts too.
TrainResult run_training(const TrainConfig& config, const mpi::Communicator& comm,
                         std::ostream& log, const StopRequest& stop = signal_stop_request());

}  // namespace aeflow::train
