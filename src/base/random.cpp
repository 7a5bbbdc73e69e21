// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
#include "aeflow/base/random.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "aeflow/base/vectorized.hpp"

namespace aeflow {
namespace {

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

float to_uniform(uint32_t bits) {
  return float(bits >> 8) * (1.0f / 16777216.0f);
}

// Blocks FIRST .. FIRST + COUNT - 1 of the stream (KEY, STREAM), as uniforms, 4 per block in
// the order next_u32() gives them. The same rounds as philox4x32, laid out one block per
// vector lane so that the compiler turns each round into vector instructions for 16 blocks.
AEFLOW_VECTORIZED void uniform_blocks(std::array<uint32_t, 2> key, uint64_t stream, uint64_t first,
                                      size_t count, float* out) {
  constexpr size_t kLanes = 16;
  for (size_t done = 0; done < count; done += kLanes) {
    uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
    for (size_t l = 0; l < kLanes; ++l) {
      const uint64_t block = first + done + l;
      c0[l] = uint32_t(block);
      c1[l] = uint32_t(block >> 32);
      c2[l] = uint32_t(stream);
      c3[l] = uint32_t(stream >> 32);
    }
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      for (size_t l = 0; l < kLanes; ++l) {
        const uint64_t p0 = uint64_t{kMul0} * c0[l];
        const uint64_t p1 = uint64_t{kMul1} * c2[l];
        c0[l] = uint32_t(p1 >> 32) ^ c1[l] ^ k0;
        c2[l] = uint32_t(p0 >> 32) ^ c3[l] ^ k1;
        c1[l] = uint32_t(p1);
        c3[l] = uint32_t(p0);
      }
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    const size_t lanes = std::min(kLanes, count - done);
    for (size_t l = 0; l < lanes; ++l) {
      float* o = out + 4 * (done + l);
      o[0] = to_uniform(c0[l]);
      o[1] = to_uniform(c1[l]);
      o[2] = to_uniform(c2[l]);
      o[3] = to_uniform(c3[l]);
    }
  }
}

}  // namespace

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{kMul0} * c[0];
    const uint64_t p1 = uint64_t{kMul1} * c[2];
    c = {uint32_t(p1 >> 32) ^ c[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ c[3] ^ k[1],
         uint32_t(p0)};
    k = {k[0] + kWeyl0, k[1] + kWeyl1};
  }
  return c;
}

RandomStream::RandomStream(uint64_t seed, RandomPurpose purpose, uint64_t a, uint64_t b) {
  const uint64_t key = splitmix64(seed ^ splitmix64(uint64_t(purpose) ^ splitmix64(a)));
  key_ = {uint32_t(key), uint32_t(key >> 32)};
  stream_ = b;
}

void RandomStream::seek(uint64_t block_index) {
  block_ = block_index;
  used_ = 4;
}

uint32_t RandomStream::next_u32() {
  if (used_ == 4) {
    buffer_ = philox4x32(
        {uint32_t(block_), uint32_t(block_ >> 32), uint32_t(stream_), uint32_t(stream_ >> 32)},
        key_);
    ++block_;
    used_ = 0;
  }
  return buffer_[used_++];
}

float RandomStream::uniform() {
  return to_uniform(next_u32());
}

void RandomStream::fill_uniform(float* out, size_t n) {
  size_t k = 0;
  for (; k < n && used_ < 4; ++k) out[k] = uniform();  // what is left of the current block
  const size_t blocks = (n - k) / 4;
  uniform_blocks(key_, stream_, block_, blocks, out + k);
  block_ += blocks;
  for (k += 4 * blocks; k < n; ++k) out[k] = uniform();  // the start of one more block
}

float RandomStream::normal() {
  // 1 - u keeps the logarithm finite.
  const double u1 = 1.0 - double(next_u32()) * (1.0 / 4294967296.0);
  const double u2 = double(next_u32()) * (1.0 / 4294967296.0);
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

uint64_t RandomStream::below(uint64_t n) {
  // Lemire's rejection on 64-bit draws.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  for (;;) {
    const uint64_t x = (uint64_t(next_u32()) << 32) | next_u32();
    if (x < limit) return x % n;
  }
}

}  // namespace aeflow
