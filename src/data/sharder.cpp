#include "aeflow/data/sharder.hpp"

#include <numeric>
#include <utility>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"

namespace aeflow::data {

Sharder::Sharder(size_t examples, size_t global_batch, uint64_t seed, int rank, int world)
    : examples_(examples), batch_(global_batch), seed_(seed), rank_(rank), world_(world) {
  if (examples == 0) throw InputError("no training examples left after the validation split");
  if (global_batch == 0) throw InputError("--batch-size must be at least 1");
  if (world < 1 || rank < 0 || rank >= world) throw RunError("Sharder: bad rank/world");
}

std::vector<uint32_t> Sharder::permutation(uint64_t epoch) const {
  std::vector<uint32_t> order(examples_);
  std::iota(order.begin(), order.end(), 0u);
  RandomStream rng(seed_, RandomPurpose::kShuffle, epoch);
  for (size_t i = examples_ - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  return order;
}

Shard Sharder::shard(size_t step) const {
  Shard s;
  s.global_begin = step * batch_;
  s.global_size = std::min(batch_, examples_ - s.global_begin);
  // Balanced contiguous shards: rank r takes [n r / P, n (r+1) / P).
  const size_t begin = s.global_size * size_t(rank_) / size_t(world_);
  const size_t end = s.global_size * size_t(rank_ + 1) / size_t(world_);
  s.local_begin = s.global_begin + begin;
  s.local_size = end - begin;
  return s;
}

}  // namespace aeflow::data
