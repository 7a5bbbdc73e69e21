// Counter-based random numbers (Philox4x32-10). Every random stream in aeflow (initialization,
// shuffling, masking noise, dropout, augmentation) is a pure function of (seed, purpose, a, b) and
// a position, so results do not depend on the order in which ranks or threads draw, and a resumed
// run regenerates exactly the numbers the uninterrupted run would have drawn.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace aeflow {

// What a stream is for; part of its key so that streams never overlap.
enum class RandomPurpose : uint32_t {
  kInit = 1,
  kShuffle = 2,
  kNoise = 3,
  kDropout = 4,
  kSample = 5,
  kAugment = 6,
  kTest = 99,
};

// One Philox4x32-10 block: 128 random bits for a 128-bit counter under a 64-bit key.
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// A sequential reader over the blocks of one keyed stream.
class RandomStream {
 public:
  RandomStream(uint64_t seed, RandomPurpose purpose, uint64_t a = 0, uint64_t b = 0);

  uint32_t next_u32();
  // Uniform in [0, 1) with 24 random bits, so it is exactly representable as a float.
  float uniform();
  // N draws of uniform() into OUT, the same values in the same order, but whole Philox blocks
  // are computed 16 at a time in vector registers (masking noise and dropout draw one number
  // per pixel or unit; what one at a time cost: docs/performance.md).
  void fill_uniform(float* out, size_t n);
  // Standard normal (Box-Muller on two uniforms).
  float normal();
  // Uniform integer in [0, n), without modulo bias.
  uint64_t below(uint64_t n);
  // Skip to block `index` of this stream (4 words per block).
  void seek(uint64_t block_index);

 private:
  std::array<uint32_t, 2> key_;
  uint64_t stream_;  // fills counter words 2 and 3
  uint64_t block_ = 0;
  std::array<uint32_t, 4> buffer_{};
  int used_ = 4;
};

}  // namespace aeflow
