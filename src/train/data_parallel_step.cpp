// Every rank's loss gradient is scaled by the GLOBAL element count, so the sum of the ranks'
// gradients is the whole batch's gradient, and every rank then takes the same optimizer step
// on identical parameters.
#include "aeflow/train/data_parallel_step.hpp"

#include <algorithm>
#include <chrono>

#include "aeflow/base/error.hpp"
#include "aeflow/mpi/node_shared_buffers.hpp"
#include "aeflow/mpi/pending_sums.hpp"

namespace aeflow::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

void DataParallelStep::node_sync() {
  const auto start = Clock::now();
  shared_->sync();
  times_.node_wait += seconds_since(start);
}

DataParallelStep::DataParallelStep(model::Network& network, const model::Loss& loss,
                                   model::Optimizer& optimizer, const mpi::Communicator& comm,
                                   GradSync mode, double bucket_mb, size_t max_global_rows)
    : network_(network),
      loss_(loss),
      optimizer_(optimizer),
      comm_(comm),
      mode_(mode),
      bucket_mb_(bucket_mb),
      max_global_rows_(max_global_rows) {}

DataParallelStep::~DataParallelStep() {
  split_.reset();
  if (shared_) network_.use_own_buffers();  // before the shared memory goes
}

// Collective: every rank's first step.
void DataParallelStep::start_shared() {
  const size_t count = network_.parameters().size();
  // A node's batch: its ranks' shards, each at most ceil(batch / ranks) rows.
  const size_t per_rank = (max_global_rows_ + size_t(comm_.size()) - 1) / size_t(comm_.size());
  auto node_rows = [&](int node_size) {
    return std::min(max_global_rows_, per_rank * size_t(node_size));
  };
  std::string why_not, split_why_not;
  if (mode_ == GradSync::kAuto) {
    // split moves the node's batch between the cores (activations, parts of dx), shared the
    // model (parameters, gradients): take the one that moves less. Measured on 2 cores
    // (docs/performance.md) split is faster for 784-512-128-10 up to batch 256, shared at 512
    // and for small models; this rule picks the faster in each of those cases.
    const int node_size = mpi::NodeSharedBuffers::ranks_per_node(comm_);
    const size_t split_floats =
        model::SplitLayers::shared_floats(network_.spec(), node_rows(node_size), node_size);
    const bool split =
        model::SplitLayers::unsupported(network_).empty() && split_floats < 2 * count;
    mode_ = split ? GradSync::kSplit : GradSync::kShared;
    note_ = std::string("--grad-sync auto: ") + (split ? "split" : "shared") + " (" +
            std::to_string(node_rows(node_size)) +
            " rows a node: " + std::to_string(split_floats / 1000) +
            "k floats of batch in shared memory, " + std::to_string(2 * count / 1000) +
            "k of parameters and gradients)";
  }
  if (mode_ == GradSync::kSplit) {
    split_why_not = model::SplitLayers::unsupported(network_);
    if (split_why_not.empty()) {
      mpi::NodeSharedLayout layout;
      layout.gradient_segments = false;
      layout.extra_floats = [&](int node_size) {
        return model::SplitLayers::shared_floats(network_.spec(), node_rows(node_size), node_size);
      };
      shared_ = mpi::NodeSharedBuffers::create(comm_, count, split_why_not, layout);
    }
    if (!shared_) {
      note_ = split_why_not + ": using --grad-sync shared";
      mode_ = GradSync::kShared;
    }
  }
  if (!shared_) {
    shared_ = mpi::NodeSharedBuffers::create(comm_, count, why_not);
    if (!shared_) {
      // (unequal ranks per node stop both modes: say it once)
      note_ = (split_why_not.empty() || split_why_not == why_not ? "" : split_why_not + ", and ") +
              why_not + ": using --grad-sync fused";
      mode_ = GradSync::kFused;
      return;
    }
  }
  // Every rank holds the same parameters (broadcast or restored): one copies them in.
  if (shared_->node_rank() == 0)
    std::copy_n(network_.parameters().data(), count, shared_->parameters().data());
  shared_->sync();
  network_.use_buffers(shared_->parameters(), shared_->gradients());
  if (mode_ == GradSync::kSplit) {
    split_ = std::make_unique<model::SplitLayers>(
        network_,
        model::SplitGroup{shared_->node_rank(), shared_->node_size(), [this] { node_sync(); },
                          shared_->extra()},
        node_rows(shared_->node_size()));
    size_t owned = 0;
    for (const auto& [begin, end] : split_->owned()) owned += end - begin;
    summed_.assign(shared_->nodes() > 1 ? owned : 0, 0.0f);
    return;
  }
  const size_t slice = shared_->slice_end() - shared_->slice_begin();
  summed_.assign(shared_->nodes() == 1 ? std::clamp<size_t>(slice, 1, 4096) : slice, 0.0f);
}

// gather_slices moves the optimizer's stored state by slices: a slice must start on a block.
static_assert(mpi::NodeSharedBuffers::kSliceAlign % model::Optimizer::kStateBlock == 0);

void DataParallelStep::complete_optimizer_state() {
  if (!shared_ || optimizer_.state_arrays() == 0) return;
  if (!split_) {
    shared_->gather_slices(optimizer_.stored_state(), optimizer_.state_arrays());
    return;
  }
  // Each rank's owned ranges, zero bits elsewhere, merged by a bitwise OR over the node.
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

StepResult DataParallelStep::run(const float* input, const float* target, int rows,
                                 size_t global_rows, const model::DropoutKey& key, float lr,
                                 bool stop_requested) {
  const size_t width = size_t(network_.spec().input_width());
  const size_t elements = size_t(rows) * width;
  if (diff_.size() < elements) diff_.resize(elements);
  const bool node_shared =
      mode_ == GradSync::kShared || mode_ == GradSync::kSplit || mode_ == GradSync::kAuto;
  if (node_shared && comm_.size() > 1 && !shared_) start_shared();
  if (split_) return run_split(input, target, rows, global_rows, key, lr, stop_requested);

  auto start = Clock::now();
  const float* output = rows ? network_.forward(input, rows, true, key) : nullptr;
  // The loss's sum and the stop flag in one collective.
  double sums[2] = {rows ? loss_.sum(output, target, elements) : 0.0, stop_requested ? 1.0 : 0.0};
  comm_.allreduce_sum(std::span<double>(sums, 2));
  const double global_elements = double(global_rows) * double(width);
  if (rows) loss_.gradient(output, target, elements, sums[0], global_elements, diff_.data());
  times_.forward += seconds_since(start);

  if (shared_) {
    backward_and_update_shared(input, rows, lr);
  } else {
    backward_and_reduce(input, rows);
    start = Clock::now();
    optimizer_.step(network_.parameters(), network_.gradients(), lr);
    times_.update += seconds_since(start);
  }
  return {sums[0], sums[1] > 0};
}

// Each rank writes its gradients into its own shared segment, then sums one slice over the
// ranks and updates that slice of the node's one copy of the parameters. The first sync makes
// sure every gradient is written and no rank still reads the parameters (backward-data does);
// the second that every slice is updated before anyone's next forward.
void DataParallelStep::backward_and_update_shared(const float* input, int rows, float lr) {
  auto start = Clock::now();
  network_.backward(input, diff_.data(), rows);
  times_.backward += seconds_since(start);

  start = Clock::now();
  node_sync();
  times_.reduce += seconds_since(start);

  start = Clock::now();
  optimizer_.begin_step();
  const size_t begin = shared_->slice_begin(), end = shared_->slice_end();
  auto parameters = network_.parameters();
  if (shared_->nodes() == 1) {
    // A cache-sized block at a time: the sum is read back by the optimizer from L1, not from
    // memory (the update is memory-bound, and both ranks share the memory's bandwidth).
    for (size_t block = begin; block < end; block += summed_.size()) {
      const size_t n = std::min(summed_.size(), end - block);
      shared_->sum_over_node(block, block + n, summed_.data());
      optimizer_.update(block, parameters.subspan(block, n), {summed_.data(), n}, lr);
    }
  } else {
    const std::span<float> slice(summed_.data(), end - begin);
    shared_->sum_over_node(begin, end, slice.data());
    const auto across = Clock::now();
    shared_->sum_over_nodes(slice);
    const double across_seconds = seconds_since(across);
    times_.reduce += across_seconds;  // communication, not the optimizer's time
    times_.update -= across_seconds;
    optimizer_.update(begin, parameters.subspan(begin, end - begin), slice, lr);
  }
  times_.update += seconds_since(start);

  start = Clock::now();
  node_sync();
  times_.reduce += seconds_since(start);
}

// The node's ranks put their rows side by side in the shared batch (in node-rank order) and
// compute their columns of every layer over all of them; each updates the parameters it owns as
// soon as backward is done with them (on one node), or after summing them across nodes.
StepResult DataParallelStep::run_split(const float* input, const float* target, int rows,
                                       size_t global_rows, const model::DropoutKey& key, float lr,
                                       bool stop_requested) {
  auto start = Clock::now();
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
                    stop_requested ? 1.0 : 0.0};
  comm_.allreduce_sum(std::span<double>(sums, 2));  // every rank's columns of its node's rows
  split_->loss_gradient(loss_, sums[0], double(global_rows) * double(width));
  times_.forward += seconds_since(start);

  start = Clock::now();
  optimizer_.begin_step();
  auto parameters = network_.parameters();
  auto gradients = network_.gradients();
  if (shared_->nodes() == 1) {
    double update_seconds = 0;
    split_->backward([&](size_t begin, size_t end) {
      const auto at = Clock::now();
      optimizer_.update(begin, parameters.subspan(begin, end - begin),
                        gradients.subspan(begin, end - begin), lr);
      update_seconds += seconds_since(at);
    });
    times_.backward += seconds_since(start) - update_seconds;
    times_.update += update_seconds;
  } else {
    split_->backward({});
    times_.backward += seconds_since(start);
    start = Clock::now();
    size_t at = 0;  // the owned ranges, packed, summed across nodes
    for (const auto& [begin, end] : split_->owned()) {
      std::copy(gradients.begin() + begin, gradients.begin() + end, summed_.begin() + at);
      at += end - begin;
    }
    shared_->sum_over_nodes(summed_);
    times_.reduce += seconds_since(start);
    start = Clock::now();
    at = 0;
    for (const auto& [begin, end] : split_->owned()) {
      optimizer_.update(begin, parameters.subspan(begin, end - begin),
                        std::span<const float>(summed_).subspan(at, end - begin), lr);
      at += end - begin;
    }
    times_.update += seconds_since(start);
  }
  start = Clock::now();
  node_sync();  // every part updated before anyone reads the parameters
  times_.reduce += seconds_since(start);
  return {sums[0], sums[1] > 0};
}

// Overlapped modes: layers finish last to first, and their parameter ranges are contiguous and
// descending in the flat buffer, so ready ranges grow one bucket downwards until it is large
// enough to send.
void DataParallelStep::backward_and_reduce(const float* input, int rows) {
  auto gradients = network_.gradients();
  auto start = Clock::now();
  if (mode_ == GradSync::kFused || comm_.size() == 1) {
    network_.backward(input, diff_.data(), rows);  // zero gradients for an empty shard
    times_.backward += seconds_since(start);
    start = Clock::now();
    comm_.allreduce_sum(gradients);
    times_.reduce += seconds_since(start);
    return;
  }
  const size_t bucket = std::max<size_t>(1, size_t(bucket_mb_ * 1e6 / sizeof(float)));
  size_t begin = gradients.size(), end = gradients.size();
  network_.backward(input, diff_.data(), rows, [&](size_t ready_begin, size_t ready_end) {
    if (ready_end != begin) throw RunError("gradient ranges out of order");
    begin = ready_begin;
    if (end - begin >= bucket) {
      comm_.start_allreduce_sum(gradients.subspan(begin, end - begin), pending_);
      end = begin;
    } else {
      pending_.progress();
    }
  });
  times_.backward += seconds_since(start);
  start = Clock::now();
  if (end > begin) comm_.start_allreduce_sum(gradients.subspan(begin, end - begin), pending_);
  pending_.wait();
  times_.reduce += seconds_since(start);  // the wait that overlapping did not hide
}

}  // namespace aeflow::train
