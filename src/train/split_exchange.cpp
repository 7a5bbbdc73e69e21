#include <algorithm>
#include <chrono>
#include <string>

#include "aeflow/base/error.hpp"
#include "exchanges.hpp"

namespace aeflow::train {

SplitExchange::SplitExchange(model::Network& network, const model::Loss& loss,
                             model::Optimizer& optimizer, const mpi::Communicator& comm,
                             std::unique_ptr<mpi::NodeSharedBuffers> shared, size_t node_rows)
    : GradientExchange(network, loss, optimizer, comm), shared_(std::move(shared)) {
  // (before SplitLayers, whose matmuls bind the bf16 copy; each rank updates the rows it owns)
  bf16_copy_ = use_node_shared_parameters(network_, *shared_);
  split_ = std::make_unique<model::SplitLayers>(
      network_,
      model::SplitGroup{shared_->node_rank(), shared_->node_size(),
                        [this] { node_sync(*shared_, times_); }, shared_->extra()},
      node_rows);
  size_t owned = 0;
  for (const auto& [begin, end] : split_->owned()) owned += end - begin;
  summed_.assign(shared_->nodes() > 1 ? owned : 0, 0.0f);
}

SplitExchange::~SplitExchange() {
  split_.reset();
  network_.use_bf16_copy({});  // before the shared memory goes
  network_.use_own_buffers();
}

// The node's ranks put their rows side by side in the shared batch (in node-rank order) and
// compute their columns of every layer over all of them; each updates the parameters it owns as
// soon as backward is done with them (on one node), or after summing them across nodes.
StepResult SplitExchange::forward(const StepBatch& batch) {
  const float *input = batch.input, *target = batch.target;
  const int rows = batch.rows;
  const model::DropoutKey& key = batch.key;
  auto start = std::chrono::steady_clock::now();
  const bool separate_target = target != input;  // (with noise; the same on every rank)
  const int64_t mine[3] = {rows, int64_t(key.first_global_row), separate_target ? 1 : 0};
  std::vector<int64_t>& all = node_row_counts_;  // (members: nothing allocated per step)
  std::vector<model::RowBlock>& blocks = node_blocks_;
  all.resize(3 * size_t(shared_->node_size()));
  blocks.resize(size_t(shared_->node_size()));
  shared_->gather_over_node(mine, all);
  size_t offset = 0, node_rows = 0;  // this rank's rows start at OFFSET of the node's batch
  for (size_t q = 0; q < blocks.size(); ++q) {
    blocks[q] = {size_t(all[3 * q]), uint64_t(all[3 * q + 1])};
    if (int(q) < shared_->node_rank()) offset += blocks[q].rows;
    node_rows += blocks[q].rows;
    if ((all[3 * q + 2] != 0) != separate_target)
      throw RunError("--grad-sync split: ranks disagree on whether the target is the input");
  }
  if (node_rows > split_->max_rows())
    throw RunError("--grad-sync split: a node batch of " + std::to_string(node_rows) +
                   " rows, room for " + std::to_string(split_->max_rows()));
  const size_t width = size_t(network_.spec().input_width());
  if (rows > 0) {
    std::copy_n(input, size_t(rows) * width, split_->input_row(offset));
    if (separate_target) std::copy_n(target, size_t(rows) * width, split_->target_row(offset));
  }
  double sums[2] = {split_->forward(blocks, key, loss_, separate_target),
                    batch.stop_requested ? 1.0 : 0.0};
  comm_.allreduce_sum(std::span<double>(sums, 2));  // every rank's columns of its node's rows
  split_->loss_gradient(loss_, sums[0], double(batch.global_rows) * double(width));
  times_.forward += seconds_since(start);

  return {sums[0], sums[1] > 0};
}

void SplitExchange::backward_and_update(const StepBatch&, float lr) {
  auto start = std::chrono::steady_clock::now();
  optimizer_.begin_step();
  auto parameters = network_.parameters();
  auto gradients = network_.gradients();
  if (shared_->nodes() == 1) {
    double update_seconds = 0;
    split_->backward([&](size_t begin, size_t end) {
      const auto at = std::chrono::steady_clock::now();
      optimizer_.update(begin, parameters.subspan(begin, end - begin),
                        gradients.subspan(begin, end - begin), lr, bf16_piece(begin, end - begin));
      update_seconds += seconds_since(at);
    });
    times_.backward += seconds_since(start) - update_seconds;
    times_.update += update_seconds;
  } else {
    split_->backward({});
    times_.backward += seconds_since(start);
    start = std::chrono::steady_clock::now();
    size_t at = 0;  // the owned ranges, packed, summed across nodes
    for (const auto& [begin, end] : split_->owned()) {
      std::copy(gradients.begin() + begin, gradients.begin() + end, summed_.begin() + at);
      at += end - begin;
    }
    shared_->sum_over_nodes(summed_);
    times_.reduce += seconds_since(start);
    start = std::chrono::steady_clock::now();
    at = 0;
    for (const auto& [begin, end] : split_->owned()) {
      optimizer_.update(begin, parameters.subspan(begin, end - begin),
                        std::span<const float>(summed_).subspan(at, end - begin), lr,
                        bf16_piece(begin, end - begin));
      at += end - begin;
    }
    times_.update += seconds_since(start);
  }
  start = std::chrono::steady_clock::now();
  node_sync(*shared_, times_);  // every part updated before anyone reads the parameters
  times_.reduce += seconds_since(start);
}

// Each rank's owned ranges, zero bits elsewhere, merged by a bitwise OR over the node.
void SplitExchange::complete_optimizer_state() {
  if (optimizer_.state_arrays() == 0) return;
  const std::span<float> stored = optimizer_.stored_state();
  const size_t arrays = optimizer_.state_arrays();
  std::vector<float> merged(stored.size(), 0.0f);
  for (const auto& [begin, end] : split_->owned())
    for (size_t k = begin; k < end; ++k)
      for (size_t a = 0; a < arrays; ++a) {
        const size_t at = model::Optimizer::stored_at(k, a, arrays);
        merged[at] = stored[at];
      }
  shared_->merge_over_node(merged);
  std::copy(merged.begin(), merged.end(), stored.begin());
}

}  // namespace aeflow::train
