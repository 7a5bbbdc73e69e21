// The training loop of `aeflow train`: data-parallel over the ranks of a Communicator, with
// evaluation, early stopping, checkpoints every N epochs, bit-for-bit resume, and a clean stop on
// SIGTERM or SIGUSR1 (what Slurm sends before a time limit or preemption).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/evaluator.hpp"
#include "aeflow/eval/pca.hpp"
#include "aeflow/io/history.hpp"
#include "aeflow/io/metrics.hpp"
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
  kPruned,         // SharedWork::prune ended it after an epoch: checkpoint written, no test
};

// What a process that runs many trainings (`aeflow sweep`) does once and hands to each of them.
struct SharedWork {
  const data::Dataset* train_file = nullptr;  // the training images of config.data, already read
  const data::Dataset* test_file = nullptr;   // and its test images
  // PCA fitted on this run's training images (after the validation split, within
  // --train-limit) with every component, for the metrics; null: they fit it.
  const eval::Pca* pca = nullptr;
  // Asked on the run's rank 0 after each whole epoch, with its validation loss: true ends the
  // run there (StopReason::kPruned). Only runs with a validation split are asked.
  std::function<bool(int64_t epoch, double val_loss)> prune;
  // Called on every rank after every training step (the sweep lets MPI answer other groups).
  std::function<void()> after_step;
};

struct TrainResult {
  int exit_code = 0;
  StopReason stop_reason = StopReason::kDone;
  int64_t epochs = 0;  // completed
  int64_t steps = 0;   // optimizer steps in total
  eval::Evaluation test;
  io::MetricsSummary test_metrics;  // metrics.h5's summary (PCA at k, kNN accuracy, ...)
  std::string checkpoint;           // the last checkpoint written
  double samples_per_second = 0;    // training steps only (no evaluation, no checkpoints)
  double reduce_fraction = 0;       // share of step time in the gradient all-reduce (slowest rank)
  std::vector<io::HistoryRow> history;  // every epoch's row, also those of a resumed run
};

// Runs the whole job. LOG receives the progress lines (pass std::cout on rank 0). A request in
// STOP (on any rank) stops the run after the current step, with a checkpoint and
// kExitPreempted; one made before the run starts counts too. SHARED: what a sweep did once for
// all its runs (by default the run reads and fits everything itself).
TrainResult run_training(const TrainConfig& config, const mpi::Communicator& comm,
                         std::ostream& log, const StopRequest& stop = signal_stop_request(),
                         const SharedWork& shared = {});

}  // namespace aeflow::train
