// Which examples each rank trains on at each step. Every epoch has one seeded permutation of the
// training set, the same on every rank; global batch `step` is the permutation's slice
// [step*B, step*B + B), cut into P contiguous shards, one per rank. The last batch of an epoch
// is the remainder (smaller than B): every example is seen exactly once per epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aeflow::data {

struct Shard {
  size_t global_begin = 0;  // the batch's first position in the epoch's permutation
  size_t global_size = 0;   // rows in the whole (global) batch
  size_t local_begin = 0;   // this rank's first position in the permutation
  size_t local_size = 0;    // this rank's rows; 0 when the last batch has fewer rows than ranks
};

class Sharder {
 public:
  Sharder(size_t examples, size_t global_batch, uint64_t seed, int rank, int world);

  size_t examples() const { return examples_; }
  size_t steps_per_epoch() const { return (examples_ + batch_ - 1) / batch_; }
  // A permutation of [0, examples), the same on every rank for a given (seed, epoch).
  std::vector<uint32_t> permutation(uint64_t epoch) const;
  Shard shard(size_t step) const;

 private:
  size_t examples_, batch_;
  uint64_t seed_;
  int rank_, world_;
};

}  // namespace aeflow::data
