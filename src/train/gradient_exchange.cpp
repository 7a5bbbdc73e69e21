// Every rank's loss gradient is scaled by the GLOBAL element count, so the sum of the ranks'
// gradients is the whole batch's gradient, and every rank then takes the same optimizer step
// on identical parameters.
#include "aeflow/train/gradient_exchange.hpp"

#include <algorithm>
#include <chrono>

#include "aeflow/base/error.hpp"
#include "exchanges.hpp"

namespace aeflow::train {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void node_sync(mpi::NodeSharedBuffers& shared, StepTimes& times) {
  const auto start = std::chrono::steady_clock::now();
  shared.sync();
  times.node_wait += seconds_since(start);
}

std::span<uint16_t> use_node_shared_parameters(model::Network& network,
                                               mpi::NodeSharedBuffers& shared) {
  const std::span<uint16_t> copy16 = network.precision() == model::Precision::kBf16
                                         ? shared.parameters16()
                                         : std::span<uint16_t>();
  if (network.precision() == model::Precision::kBf16 && copy16.empty())
    throw RunError("node shared memory without a bf16 copy of the parameters");
  if (!copy16.empty()) network.use_bf16_copy(copy16);
  if (shared.node_rank() == 0) {
    std::copy_n(network.parameters().data(), network.parameters().size(),
                shared.parameters().data());
    network.refresh_bf16_copy(0, copy16.size());
  }
  shared.sync();
  network.use_buffers(shared.parameters(), shared.gradients());
  return copy16;
}

GradientExchange::GradientExchange(model::Network& network, const model::Loss& loss,
                                   model::Optimizer& optimizer, const mpi::Communicator& comm)
    : network_(network), loss_(loss), optimizer_(optimizer), comm_(comm) {
  if (network_.precision() != model::Precision::kBf16) return;
  bf16_copy_ = network_.own_bf16_copy();
  network_.use_bf16_copy(bf16_copy_);
  network_.refresh_bf16_copy(0, bf16_copy_.size());
}

GradientExchange::~GradientExchange() {
  network_.use_bf16_copy({});  // forward converts on its own again
}

StepResult GradientExchange::forward(const StepBatch& batch) {
  const auto start = std::chrono::steady_clock::now();
  const size_t width = size_t(network_.spec().input_width());
  const size_t elements = size_t(batch.rows) * width;
  if (diff_.size() < elements) diff_.resize(elements);
  const float* output =
      batch.rows ? network_.forward(batch.input, batch.rows, true, batch.key) : nullptr;
  // The loss's sum and the stop flag in one collective.
  double sums[2] = {batch.rows ? loss_.sum(output, batch.target, elements) : 0.0,
                    batch.stop_requested ? 1.0 : 0.0};
  comm_.allreduce_sum(std::span<double>(sums, 2));
  const double global_elements = double(batch.global_rows) * double(width);
  if (batch.rows)
    loss_.gradient(output, batch.target, elements, sums[0], global_elements, diff_.data());
  times_.forward += seconds_since(start);
  return {sums[0], sums[1] > 0};
}

std::unique_ptr<GradientExchange> make_gradient_exchange(
    GradSync mode, model::Network& network, const model::Loss& loss, model::Optimizer& optimizer,
    const mpi::Communicator& comm, double bucket_mb, size_t max_global_rows, std::string& note) {
  note.clear();
  if (comm.size() == 1 || mode == GradSync::kFused)
    return std::make_unique<FusedExchange>(network, loss, optimizer, comm);
  if (mode == GradSync::kOverlap)
    return std::make_unique<OverlapExchange>(network, loss, optimizer, comm, bucket_mb);

  const size_t count = network.parameters().size();
  // A node's batch: its ranks' shards, each at most ceil(batch / ranks) rows.
  const size_t per_rank = (max_global_rows + size_t(comm.size()) - 1) / size_t(comm.size());
  auto node_rows = [&](int node_size) {
    return std::min(max_global_rows, per_rank * size_t(node_size));
  };
  if (mode == GradSync::kAuto) {
    // split moves the node's batch between the cores (activations, parts of dx), shared the
    // model (parameters, gradients): take the one that moves less. docs/performance.md has the
    // cases measured; this rule picks the faster in each of them.
    const int node_size = mpi::NodeSharedBuffers::ranks_per_node(comm);
    const size_t split_floats = model::SplitLayers::shared_floats(
        network.spec(), node_rows(node_size), node_size, network.precision());
    const bool split = split_floats < 2 * count;
    mode = split ? GradSync::kSplit : GradSync::kShared;
    note = std::string("--grad-sync auto: ") + (split ? "split" : "shared") + " (" +
           std::to_string(node_rows(node_size)) +
           " rows a node: " + std::to_string(split_floats / 1000) +
           "k floats of batch in shared memory, " + std::to_string(2 * count / 1000) +
           "k of parameters and gradients)";
  }
  std::string split_why_not;
  if (mode == GradSync::kSplit) {
    mpi::NodeSharedLayout layout;
    layout.gradient_segments = false;
    layout.bf16_parameters = network.precision() == model::Precision::kBf16;
    layout.extra_floats = [&](int node_size) {
      return model::SplitLayers::shared_floats(network.spec(), node_rows(node_size), node_size,
                                               network.precision());
    };
    auto shared = mpi::NodeSharedBuffers::create(comm, count, split_why_not, layout);
    if (shared) {
      const size_t rows = node_rows(shared->node_size());
      return std::make_unique<SplitExchange>(network, loss, optimizer, comm, std::move(shared),
                                             rows);
    }
    note = split_why_not + ": using --grad-sync shared";
  }
  std::string why_not;
  mpi::NodeSharedLayout shared_layout;
  shared_layout.bf16_parameters = network.precision() == model::Precision::kBf16;
  auto shared = mpi::NodeSharedBuffers::create(comm, count, why_not, shared_layout);
  if (shared)
    return std::make_unique<SharedExchange>(network, loss, optimizer, comm, std::move(shared));
  // (unequal ranks per node stop both modes: say it once)
  note = (split_why_not.empty() || split_why_not == why_not ? "" : split_why_not + ", and ") +
         why_not + ": using --grad-sync fused";
  return std::make_unique<FusedExchange>(network, loss, optimizer, comm);
}

}  // namespace aeflow::train
