// Every rank's loss gradient is scaled by the GLOBAL element count, so the sum of the ranks'
// gradients is the whole batch's gradient, and every rank then takes the same optimizer step
// on identical parameters.
#include "aeflow/train/data_parallel_step.hpp"

#include <algorithm>
#include <chrono>

#include "aeflow/base/error.hpp"
#include "aeflow/dist/reducer_thread.hpp"

namespace aeflow::train {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

DataParallelStep::DataParallelStep(model::Network& network, const model::Loss& loss,
                                   model::Optimizer& optimizer, const dist::Comm& comm,
                                   AllreduceMode mode, double bucket_mb)
    : network_(network),
      loss_(loss),
      optimizer_(optimizer),
      comm_(comm),
      mode_(mode),
      bucket_mb_(bucket_mb) {}

DataParallelStep::~DataParallelStep() = default;

StepResult DataParallelStep::run(const float* input, const float* target, int rows,
                                 size_t global_rows, const model::DropoutKey& key, float lr,
                                 bool stop_requested) {
  const size_t width = size_t(network_.spec().input_width());
  const size_t elements = size_t(rows) * width;
  if (diff_.size() < elements) diff_.resize(elements);

  auto start = Clock::now();
  const float* output = rows ? network_.forward(input, rows, true, key) : nullptr;
  // The loss's sum and the stop flag in one collective.
  double sums[2] = {rows ? loss_.sum(output, target, elements) : 0.0, stop_requested ? 1.0 : 0.0};
  comm_.allreduce_sum(std::span<double>(sums, 2));
  const double global_elements = double(global_rows) * double(width);
  if (rows) loss_.gradient(output, target, elements, sums[0], global_elements, diff_.data());
  times_.forward += seconds_since(start);

  backward_and_reduce(input, rows);
  start = Clock::now();
  optimizer_.step(network_.parameters(), network_.gradients(), lr);
  times_.update += seconds_since(start);
  return {sums[0], sums[1] > 0};
}

// Overlapped modes: layers finish last to first, and their parameter ranges are contiguous and
// descending in the flat buffer, so ready ranges grow one bucket downwards until it is large
// enough to send.
void DataParallelStep::backward_and_reduce(const float* input, int rows) {
  auto gradients = network_.gradients();
  auto start = Clock::now();
  if (mode_ == AllreduceMode::kFused || comm_.size() == 1) {
    network_.backward(input, diff_.data(), rows);  // zero gradients for an empty shard
    times_.backward += seconds_since(start);
    start = Clock::now();
    comm_.allreduce_sum(gradients);
    times_.reduce += seconds_since(start);
    return;
  }
  const size_t bucket = std::max<size_t>(1, size_t(bucket_mb_ * 1e6 / sizeof(float)));
  const bool threaded = mode_ == AllreduceMode::kThread;
  if (threaded && !reducer_) reducer_ = std::make_unique<dist::ReducerThread>(comm_);
  auto send = [&](std::span<float> values) {
    if (threaded)
      reducer_->start(values);
    else
      comm_.start_allreduce_sum(values);
  };
  size_t begin = gradients.size(), end = gradients.size();
  network_.backward(input, diff_.data(), rows, [&](size_t ready_begin, size_t ready_end) {
    if (ready_end != begin) throw RunError("gradient ranges out of order");
    begin = ready_begin;
    if (end - begin >= bucket) {
      send(gradients.subspan(begin, end - begin));
      end = begin;
    } else if (!threaded) {
      comm_.progress();
    }
  });
  times_.backward += seconds_since(start);
  start = Clock::now();
  if (end > begin) send(gradients.subspan(begin, end - begin));
  if (threaded)
    reducer_->wait();
  else
    comm_.wait_all();
  times_.reduce += seconds_since(start);  // the wait that overlapping did not hide
}

}  // namespace aeflow::train
