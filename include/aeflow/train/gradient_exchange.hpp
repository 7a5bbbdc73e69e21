// What makes a step data-parallel: how the ranks' work on one global batch becomes one
// optimizer update. One implementation per --grad-sync mode (src/train/*_exchange.cpp), chosen
// once, collectively, by make_gradient_exchange; DataParallelStep runs forward, then
// backward_and_update, without knowing which.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::train {

// Seconds spent in each phase, summed over steps, on this rank.
struct StepTimes {
  double forward = 0;   // forward and the loss (with its cross-rank sum)
  double backward = 0;  // backward (overlap: with the reductions it started)
  double reduce = 0;    // the gradient all-reduce (overlap: the wait it did not hide)
  double update = 0;    // the optimizer
  // Of the above (shared and split): time spent in barriers among the node's ranks, waiting for
  // the slowest of them. Ranks that wait much longer than others show imbalance.
  double node_wait = 0;
};

struct StepResult {
  double loss_sum = 0;  // the loss terms summed over the global batch (Loss::value turns it
                        // into the batch's loss with the global element count)
  bool stop = false;    // some rank asked to stop (its stop_requested was true)
};

// This rank's part of a global batch of GLOBAL_ROWS rows: ROWS rows (maybe 0) of INPUT (what
// the network reads, with noise if any) and TARGET (what it must reconstruct).
struct StepBatch {
  const float* input = nullptr;
  const float* target = nullptr;
  int rows = 0;
  size_t global_rows = 0;
  model::DropoutKey key;
  bool stop_requested = false;  // travels with the loss's cross-rank sum
};

class GradientExchange {
 public:
  GradientExchange(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                   const mpi::Communicator& comm);
  virtual ~GradientExchange();
  GradientExchange(const GradientExchange&) = delete;
  GradientExchange& operator=(const GradientExchange&) = delete;

  // Forward over this rank's rows, the loss summed over every rank with the stop flag (one
  // collective), and d loss / d output for backward.
  virtual StepResult forward(const StepBatch& batch);
  // Backward, the ranks' gradients combined, and the optimizer's update at LR.
  virtual void backward_and_update(const StepBatch& batch, float lr) = 0;
  // Makes the whole optimizer state current on every rank (collective), for a checkpoint: the
  // modes that keep only a rank's parts of it current override it.
  virtual void complete_optimizer_state() {}

  const StepTimes& times() const { return times_; }

 protected:
  model::Network& network_;
  const model::Loss& loss_;
  model::Optimizer& optimizer_;
  mpi::Communicator comm_;
  std::vector<float> diff_;  // d loss / d output of this rank's rows
  StepTimes times_;
  // bf16: the matmuls' bf16 copy of the parameters, which this exchange's optimizer steps write
  // as they update (Network::use_bf16_copy); empty in fp32. The network's own copy unless a
  // mode shares one among the node's ranks.
  std::span<uint16_t> bf16_copy_;
  // [BEGIN, BEGIN + N) of bf16_copy_, for an update of that piece (empty in fp32).
  std::span<uint16_t> bf16_piece(size_t begin, size_t n) const {
    return bf16_copy_.empty() ? bf16_copy_ : bf16_copy_.subspan(begin, n);
  }
};

// The exchange for MODE (collective; call it once the parameters are the same on every rank:
// the node-shared modes copy them into shared memory). auto takes split or shared by which
// moves less data between a node's cores; split falls back to shared (too little shared
// memory), shared to fused (unequal ranks per node, too little shared memory);
// one rank is always fused. NOTE says what auto chose or why a mode could not be had ("" if
// nothing to tell). BUCKET_MB: overlap's bucket size; MAX_GLOBAL_ROWS: the configured batch.
std::unique_ptr<GradientExchange> make_gradient_exchange(
    GradSync mode, model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
    const mpi::Communicator& comm, double bucket_mb, size_t max_global_rows, std::string& note);

}  // namespace aeflow::train
