// The --grad-sync modes, each a GradientExchange (include/aeflow/train/gradient_exchange.hpp),
// each implemented in its own file. Private to train: make_gradient_exchange builds them.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "aeflow/model/split_layers.hpp"
#include "aeflow/mpi/node_shared_buffers.hpp"
#include "aeflow/mpi/pending_sums.hpp"
#include "aeflow/train/gradient_exchange.hpp"

namespace aeflow::train {

// One all-reduce of the whole flat gradient buffer after backward; every rank runs the whole
// optimizer step on its own copy of the parameters (fused_exchange.cpp).
class FusedExchange : public GradientExchange {
 public:
  using GradientExchange::GradientExchange;
  void backward_and_update(const StepBatch& batch, float lr) override;
};

// Buckets of layer gradients start a non-blocking all-reduce as backward produces them, waited
// on before the optimizer step (overlap_exchange.cpp).
class OverlapExchange : public GradientExchange {
 public:
  OverlapExchange(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                  const mpi::Communicator& comm, double bucket_mb);
  void backward_and_update(const StepBatch& batch, float lr) override;

 private:
  double bucket_mb_;
  mpi::PendingSums pending_;  // the buckets in flight
};

// The ranks of a node share one copy of the parameters; each sums one slice of everyone's
// gradients and updates it (across nodes the slice is all-reduced) (shared_exchange.cpp).
class SharedExchange : public GradientExchange {
 public:
  SharedExchange(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                 const mpi::Communicator& comm, std::unique_ptr<mpi::NodeSharedBuffers> shared);
  ~SharedExchange() override;
  void backward_and_update(const StepBatch& batch, float lr) override;
  void complete_optimizer_state() override;

 private:
  std::unique_ptr<mpi::NodeSharedBuffers> shared_;
  std::vector<float> summed_;  // this rank's slice, summed (one node: a cache-sized block)
};

// The ranks of a node compute their columns of every layer over the node's whole batch in
// shared memory, so their gradients need no sum inside the node; each updates the parameters it
// owns (across nodes they are all-reduced) (split_exchange.cpp).
class SplitExchange : public GradientExchange {
 public:
  SplitExchange(model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
                const mpi::Communicator& comm, std::unique_ptr<mpi::NodeSharedBuffers> shared,
                size_t node_rows);
  ~SplitExchange() override;
  StepResult forward(const StepBatch& batch) override;
  void backward_and_update(const StepBatch& batch, float lr) override;
  void complete_optimizer_state() override;

 private:
  std::unique_ptr<mpi::NodeSharedBuffers> shared_;
  std::unique_ptr<model::SplitLayers> split_;
  std::vector<float> summed_;                 // several nodes: the owned ranges, packed
  std::vector<int64_t> node_row_counts_;      // (rows, first row, target) per node rank
  std::vector<model::RowBlock> node_blocks_;  // the node's batch, rank by rank
};

// Seconds since START (the phases' clocks).
double seconds_since(std::chrono::steady_clock::time_point start);
// A barrier of the node's ranks (SHARED.sync()), its wait counted in TIMES.node_wait.
void node_sync(mpi::NodeSharedBuffers& shared, StepTimes& times);
// Collective over the node: the node's one copy of the parameters takes NETWORK's (the same on
// every rank: broadcast or restored), and NETWORK computes in SHARED's buffers from now on. Under
// bf16 its matmuls read the node's one bf16 copy, made whole here, which is returned (for the
// optimizer to keep current; empty in fp32).
std::span<uint16_t> use_node_shared_parameters(model::Network& network,
                                               mpi::NodeSharedBuffers& shared);

}  // namespace aeflow::train
