#include <algorithm>
#include <chrono>

#include "exchanges.hpp"

namespace aeflow::train {

// gather_slices moves the optimizer's stored state by slices: a slice must start on a block.
static_assert(mpi::NodeSharedBuffers::kSliceAlign % model::Optimizer::kStateBlock == 0);

SharedExchange::SharedExchange(model::Network& network, const model::Loss& loss,
                               model::Optimizer& optimizer, const mpi::Communicator& comm,
                               std::unique_ptr<mpi::NodeSharedBuffers> shared)
    : GradientExchange(network, loss, optimizer, comm), shared_(std::move(shared)) {
  bf16_copy_ = use_node_shared_parameters(network_, *shared_);  // each rank updates its slice
  const size_t slice = shared_->slice_end() - shared_->slice_begin();
  summed_.assign(shared_->nodes() == 1 ? std::clamp<size_t>(slice, 1, 4096) : slice, 0.0f);
}

SharedExchange::~SharedExchange() {
  network_.use_bf16_copy({});  // before the shared memory goes
  network_.use_own_buffers();
}

// Each rank writes its gradients into its own shared segment, then sums one slice over the
// ranks and updates that slice of the node's one copy of the parameters. The first sync makes
// sure every gradient is written and no rank still reads the parameters (backward-data does);
// the second that every slice is updated before anyone's next forward.
void SharedExchange::backward_and_update(const StepBatch& batch, float lr) {
  auto start = std::chrono::steady_clock::now();
  network_.backward(batch.input, diff_.data(), batch.rows);
  times_.backward += seconds_since(start);

  start = std::chrono::steady_clock::now();
  node_sync(*shared_, times_);
  times_.reduce += seconds_since(start);

  start = std::chrono::steady_clock::now();
  optimizer_.begin_step();
  const size_t begin = shared_->slice_begin(), end = shared_->slice_end();
  auto parameters = network_.parameters();
  if (shared_->nodes() == 1) {
    // A cache-sized block at a time: the sum is read back by the optimizer from L1, not from
    // memory (the update is memory-bound, and both ranks share the memory's bandwidth).
    for (size_t block = begin; block < end; block += summed_.size()) {
      const size_t n = std::min(summed_.size(), end - block);
      shared_->sum_over_node(block, block + n, summed_.data());
      optimizer_.update(block, parameters.subspan(block, n), {summed_.data(), n}, lr,
                        bf16_piece(block, n));
    }
  } else {
    const std::span<float> slice(summed_.data(), end - begin);
    shared_->sum_over_node(begin, end, slice.data());
    const auto across = std::chrono::steady_clock::now();
    shared_->sum_over_nodes(slice);
    const double across_seconds = seconds_since(across);
    times_.reduce += across_seconds;  // communication, not the optimizer's time
    times_.update -= across_seconds;
    optimizer_.update(begin, parameters.subspan(begin, end - begin), slice, lr,
                      bf16_piece(begin, end - begin));
  }
  times_.update += seconds_since(start);

  start = std::chrono::steady_clock::now();
  node_sync(*shared_, times_);
  times_.reduce += seconds_since(start);
}

// Each rank keeps only its slice of the optimizer state current: gathered over the node.
void SharedExchange::complete_optimizer_state() {
  if (optimizer_.state_arrays() == 0) return;
  shared_->gather_slices(optimizer_.stored_state(), optimizer_.state_arrays());
}

}  // namespace aeflow::train
