// One optimizer step of data-parallel training, the part of the loop that runs thousands of
// times: forward over this rank's shard, loss, backward, the ranks' work combined, and the
// optimizer update. How the ranks combine it is the --grad-sync mode's GradientExchange, chosen
// once when the step is built. `aeflow train` and the training benchmark (bench/train_step.cpp)
// both run it, so what the benchmark times is what users run.
#pragma once

#include <memory>
#include <string>

#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/gradient_exchange.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::train {

class DataParallelStep {
 public:
  // Collective: builds MODE's exchange (see make_gradient_exchange), so the parameters must be
  // the same on every rank by now (broadcast or restored). MAX_GLOBAL_ROWS: the most rows a
  // global batch will have (the configured batch size).
  DataParallelStep(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                   const mpi::Communicator& comm, GradSync mode, double bucket_mb,
                   size_t max_global_rows);

  // One step on this rank's ROWS rows of a global batch of GLOBAL_ROWS rows (rows may be 0):
  // INPUT is what the network reads (with noise, if any), TARGET what it must reconstruct.
  // STOP_REQUESTED travels with the loss's cross-rank sum, so asking every rank whether to stop
  // costs no extra collective.
  StepResult run(const float* input, const float* target, int rows, size_t global_rows,
                 const model::DropoutKey& key, float lr, bool stop_requested = false);

  const StepTimes& times() const { return exchange_->times(); }

  // With --grad-sync shared or split each rank keeps only its parts of the optimizer state
  // current; this makes the whole state current on every rank (collective), e.g. before a
  // checkpoint.
  void complete_optimizer_state() { exchange_->complete_optimizer_state(); }

  // What auto chose, or why the mode asked for could not be had (split -> shared -> fused);
  // empty when there is nothing to tell.
  const std::string& note() const { return note_; }

 private:
  std::string note_;
  std::unique_ptr<GradientExchange> exchange_;
};

}  // namespace aeflow::train
