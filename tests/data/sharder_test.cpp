// The Sharder: each epoch's order of the training set (a fresh, uniform, reproducible
// permutation per epoch, the same on every rank) and the batches and shards cut from it.
#include "aeflow/data/sharder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

namespace aeflow::data {
namespace {

std::vector<uint32_t> iota(size_t n) {
  std::vector<uint32_t> values(n);
  std::iota(values.begin(), values.end(), 0u);
  return values;
}

TEST(Sharder, PermutationHoldsEveryExampleOnce) {
  for (size_t examples : {size_t(1), size_t(2), size_t(7), size_t(1000), size_t(60000)}) {
    const Sharder sharder(examples, 64, 7, 0, 1);
    for (uint64_t epoch : {0u, 1u, 5u}) {
      std::vector<uint32_t> order = sharder.permutation(epoch);
      ASSERT_EQ(order.size(), examples);
      std::sort(order.begin(), order.end());
      EXPECT_EQ(order, iota(examples)) << examples << " examples, epoch " << epoch;
    }
  }
}

// Resume regenerates an epoch's order from (seed, epoch) alone, and every rank must see the
// same order, or batches would overlap and miss examples.
TEST(Sharder, PermutationIsTheSameForTheSameSeedAndEpochOnEveryRank) {
  const Sharder a(1000, 64, 7, 0, 1), b(1000, 64, 7, 0, 1);
  const Sharder rank1(1000, 32, 7, 1, 4), rank3(1000, 64, 7, 3, 4);
  for (uint64_t epoch : {0u, 1u, 17u}) {
    const std::vector<uint32_t> order = a.permutation(epoch);
    EXPECT_EQ(b.permutation(epoch), order);
    EXPECT_EQ(a.permutation(epoch), order);  // (no state carried between calls)
    EXPECT_EQ(rank1.permutation(epoch), order);
    EXPECT_EQ(rank3.permutation(epoch), order);
  }
}

// Reshuffling: each epoch (and each seed) has its own order, not the identity.
TEST(Sharder, PermutationDiffersBetweenEpochsAndSeeds) {
  const Sharder sharder(1000, 64, 7, 0, 1), other_seed(1000, 64, 8, 0, 1);
  std::vector<std::vector<uint32_t>> seen;
  for (uint64_t epoch = 0; epoch < 10; ++epoch) {
    const std::vector<uint32_t> order = sharder.permutation(epoch);
    EXPECT_NE(order, iota(1000)) << "epoch " << epoch;
    EXPECT_NE(order, other_seed.permutation(epoch)) << "epoch " << epoch;
    for (const auto& earlier : seen) EXPECT_NE(order, earlier) << "epoch " << epoch;
    // Not a rotation or a small edit of an earlier order: most positions change.
    if (!seen.empty()) {
      size_t same = 0;
      for (size_t i = 0; i < order.size(); ++i) same += order[i] == seen.back()[i];
      EXPECT_LT(same, 20u) << "epoch " << epoch;  // (a uniform shuffle: about 1 expected)
    }
    seen.push_back(order);
  }
}

// Over many epochs the 24 orders of 4 examples come up about equally often: a biased shuffle
// (Sattolo's off-by-one, which never leaves an example in place, or a modulo draw) would not.
TEST(Sharder, PermutationIsUniform) {
  const Sharder sharder(4, 4, 3, 0, 1);
  constexpr int kEpochs = 24000;
  std::map<std::vector<uint32_t>, int> counts;
  for (uint64_t epoch = 0; epoch < kEpochs; ++epoch) ++counts[sharder.permutation(epoch)];
  ASSERT_EQ(counts.size(), 24u);
  // Each count is binomial(24000, 1/24): mean 1000, sd about 31; 6 sd of slack.
  const double mean = kEpochs / 24.0, sd = std::sqrt(mean * (23.0 / 24.0));
  for (const auto& [order, count] : counts) EXPECT_NEAR(count, mean, 6 * sd);
}

// Batches tile the permutation (the last one the remainder); each batch is split into
// contiguous, balanced rank shards that tile it in rank order.
TEST(Sharder, ShardsTileEachBatchAcrossRanks) {
  constexpr size_t kExamples = 10, kBatch = 4;
  constexpr int kWorld = 3;
  EXPECT_EQ(Sharder(kExamples, kBatch, 1, 0, kWorld).steps_per_epoch(), 3u);
  EXPECT_EQ(Sharder(8, 4, 1, 0, 1).steps_per_epoch(), 2u);
  for (size_t step = 0; step < 3; ++step) {
    size_t next = step * kBatch;
    for (int rank = 0; rank < kWorld; ++rank) {
      const Shard s = Sharder(kExamples, kBatch, 1, rank, kWorld).shard(step);
      EXPECT_EQ(s.global_begin, step * kBatch);
      EXPECT_EQ(s.global_size, step < 2 ? kBatch : kExamples - 2 * kBatch);
      EXPECT_EQ(s.local_begin, next) << "step " << step << " rank " << rank;
      EXPECT_LE(s.local_size, (s.global_size + kWorld - 1) / kWorld);
      EXPECT_GE(s.local_size, s.global_size / kWorld);
      next += s.local_size;
    }
    EXPECT_EQ(next, std::min(kExamples, (step + 1) * kBatch)) << "step " << step;
  }
}

}  // namespace
}  // namespace aeflow::data
