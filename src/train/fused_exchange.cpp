#include <chrono>

#include "exchanges.hpp"

namespace aeflow::train {

void FusedExchange::backward_and_update(const StepBatch& batch, float lr) {
  auto start = std::chrono::steady_clock::now();
  network_.backward(batch.input, diff_.data(), batch.rows);  // zero gradients for an empty shard
  times_.backward += seconds_since(start);
  start = std::chrono::steady_clock::now();
  comm_.allreduce_sum(network_.gradients());
  times_.reduce += seconds_since(start);
  start = std::chrono::steady_clock::now();
  optimizer_.step(network_.parameters(), network_.gradients(), lr, bf16_copy_);
  times_.update += seconds_since(start);
}

}  // namespace aeflow::train
