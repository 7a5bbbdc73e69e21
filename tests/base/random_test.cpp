// The Philox4x32-10 generator against the published known answers, and RandomStream's bulk
// draws against its one-at-a-time draws, bit for bit: masking noise and dropout take the bulk
// path, and every run's reproducibility (and the jobs' documented results) rests on both paths
// giving the same numbers.
#include "aeflow/base/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

namespace aeflow {
namespace {

// Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, expected output.
TEST(Philox, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox4x32({0, 0, 0, 0}, {0, 0}),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

// N draws one at a time from a stream that has already given SKIP.
std::vector<float> one_at_a_time(RandomStream rng, size_t skip, size_t n) {
  for (size_t k = 0; k < skip; ++k) rng.uniform();
  std::vector<float> out(n);
  for (float& x : out) x = rng.uniform();
  return out;
}

void expect_same_bits(const std::vector<float>& expected, const std::vector<float>& got,
                      const std::string& what) {
  ASSERT_EQ(expected.size(), got.size()) << what;
  for (size_t k = 0; k < got.size(); ++k)
    ASSERT_EQ(std::bit_cast<uint32_t>(expected[k]), std::bit_cast<uint32_t>(got[k]))
        << what << ", draw " << k;
}

// Every count around the 16-block (64-draw) groups the bulk path computes at once, from every
// position within a block, and again after a seek: the same numbers, and the stream goes on
// from the same place.
TEST(RandomStream, FillUniformGivesTheSameDrawsAsUniform) {
  for (size_t skip : {0, 1, 2, 3, 4, 5, 7, 64, 66}) {
    for (size_t n : {0, 1, 3, 4, 5, 63, 64, 65, 67, 128, 784, 1001}) {
      const RandomStream fresh(42, RandomPurpose::kNoise, 3, 0x123456789abull);
      const std::string what = "skip " + std::to_string(skip) + ", n " + std::to_string(n);
      RandomStream rng = fresh;
      for (size_t k = 0; k < skip; ++k) rng.uniform();
      std::vector<float> bulk(n);
      rng.fill_uniform(bulk.data(), n);
      expect_same_bits(one_at_a_time(fresh, skip, n), bulk, what);
      // The draws after it, one at a time, continue the same stream.
      std::vector<float> after(9);
      for (float& x : after) x = rng.uniform();
      expect_same_bits(one_at_a_time(fresh, skip + n, after.size()), after, what + ", after");
    }
  }
}

TEST(RandomStream, FillUniformAfterSeekAndAcrossTheCountersCarry) {
  // A block index whose low word overflows inside one 16-block group: the counter's high word
  // must carry in every lane.
  for (uint64_t block : {uint64_t{5}, uint64_t{0xfffffff8}, uint64_t{0xffffffff}}) {
    RandomStream fresh(7, RandomPurpose::kDropout, 11, 13);
    fresh.seek(block);
    RandomStream rng = fresh;
    std::vector<float> bulk(200);
    rng.fill_uniform(bulk.data(), bulk.size());
    expect_same_bits(one_at_a_time(fresh, 0, bulk.size()), bulk, "block " + std::to_string(block));
  }
}

TEST(RandomStream, FillUniformStaysInTheUnitInterval) {
  RandomStream rng(1, RandomPurpose::kTest);
  std::vector<float> x(100000);
  rng.fill_uniform(x.data(), x.size());
  double sum = 0;
  for (float v : x) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LT(v, 1.0f);
    sum += v;
  }
  EXPECT_NEAR(sum / double(x.size()), 0.5, 0.01);  // 5 sigma is ~0.0046
}

}  // namespace
}  // namespace aeflow
