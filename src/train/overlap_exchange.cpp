#include <algorithm>
#include <chrono>

#include "aeflow/base/error.hpp"
#include "exchanges.hpp"

namespace aeflow::train {

OverlapExchange::OverlapExchange(model::Network& network, const model::Loss& loss,
                                 model::Optimizer& optimizer, const mpi::Communicator& comm,
                                 double bucket_mb)
    : GradientExchange(network, loss, optimizer, comm), bucket_mb_(bucket_mb) {}

// Layers finish last to first, and their parameter ranges are contiguous and descending in the
// flat buffer, so ready ranges grow one bucket downwards until it is large enough to send.
void OverlapExchange::backward_and_update(const StepBatch& batch, float lr) {
  auto gradients = network_.gradients();
  auto start = std::chrono::steady_clock::now();
  const size_t bucket = std::max<size_t>(1, size_t(bucket_mb_ * 1e6 / sizeof(float)));
  size_t begin = gradients.size(), end = gradients.size();
  network_.backward(batch.input, diff_.data(), batch.rows,
                    [&](size_t ready_begin, size_t ready_end) {
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
  start = std::chrono::steady_clock::now();
  if (end > begin) comm_.start_allreduce_sum(gradients.subspan(begin, end - begin), pending_);
  pending_.wait();
  times_.reduce += seconds_since(start);  // the wait that overlapping did not hide
  start = std::chrono::steady_clock::now();
  optimizer_.step(network_.parameters(), network_.gradients(), lr, bf16_copy_);
  times_.update += seconds_since(start);
}

}  // namespace aeflow::train
