// One optimizer step of data-parallel training, the part of the loop that runs thousands of
// times: forward over this rank's shard, loss, backward, the sum of the gradients across ranks,
// and the optimizer update. `aeflow train` and the training benchmark (bench/train_step.cpp)
// both run it, so what the benchmark times is what users run.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/model/split_layers.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/mpi/pending_sums.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::mpi {
class NodeSharedBuffers;
}  // namespace aeflow::mpi

namespace aeflow::train {

// Seconds spent in each phase, summed over steps, on this rank.
struct StepTimes {
  double forward = 0;   // forward and the loss (with its cross-rank sum)
  double backward = 0;  // backward (overlapped modes: with the reductions it started)
  double reduce = 0;    // the gradient all-reduce (overlapped modes: the wait it did not hide)
  double update = 0;    // the optimizer
  // Of the above (shared and split modes): time spent in barriers among the node's ranks,
  // waiting for the slowest of them. Ranks that wait much longer than others show imbalance.
  double node_wait = 0;
};

struct StepResult {
  double loss_sum = 0;  // the loss terms summed over the global batch (Loss::value turns it
                        // into the batch's loss with the global element count)
  bool stop = false;    // some rank asked to stop (its stop_requested was true)
};

class DataParallelStep {
 public:
  // MAX_GLOBAL_ROWS: the most rows a global batch will have (the configured batch size).
  DataParallelStep(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                   const mpi::Communicator& comm, GradSync mode, double bucket_mb,
                   size_t max_global_rows);
  ~DataParallelStep();
  DataParallelStep(const DataParallelStep&) = delete;
  DataParallelStep& operator=(const DataParallelStep&) = delete;

  // One step on this rank's ROWS rows of a global batch of GLOBAL_ROWS rows (rows may be 0):
  // INPUT is what the network reads (with noise, if any), TARGET what it must reconstruct.
  // STOP_REQUESTED travels with the loss's cross-rank sum, so asking every rank whether to stop
  // costs no extra collective.
  StepResult run(const float* input, const float* target, int rows, size_t global_rows,
                 const model::DropoutKey& key, float lr, bool stop_requested = false);

  const StepTimes& times() const { return times_; }

  // With --grad-sync shared or split, each rank keeps only its parts of the optimizer state
  // current; this makes the whole state current on every rank (collective), e.g. before a
  // checkpoint.
  void complete_optimizer_state();

  // Set by the first step when there is something to tell about the mode: what auto chose, or
  // why the mode asked for could not be used (split -> shared -> fused).
  const std::string& note() const { return note_; }

 private:
  void node_sync();  // shared_->sync(), timed into times_.node_wait
  void start_shared();
  StepResult run_split(const float* input, const float* target, int rows, size_t global_rows,
                       const model::DropoutKey& key, float lr, bool stop_requested);
  void backward_and_reduce(const float* input, int rows);
  void backward_and_update_shared(const float* input, int rows, float lr);

  model::Network& network_;
  const model::Loss& loss_;
  model::Optimizer& optimizer_;
  mpi::Communicator comm_;
  mpi::PendingSums pending_;  // GradSync::kOverlap: the buckets in flight
  GradSync mode_;
  double bucket_mb_;
  size_t max_global_rows_;
  std::unique_ptr<mpi::NodeSharedBuffers> shared_;  // GradSync::kShared and kSplit
  std::vector<float> summed_;  // kShared: this rank's slice, summed; kSplit: its owned ranges
  std::unique_ptr<model::SplitLayers> split_;  // GradSync::kSplit
  std::vector<int64_t> node_row_counts_;       // kSplit: (rows, first row, target) per node rank
  std::vector<model::RowBlock> node_blocks_;   // kSplit: the node's batch, rank by rank
  std::string note_;
  std::vector<float> diff_;  // d loss / d output of this rank's rows
  StepTimes times_;
};

}  // namespace aeflow::train
