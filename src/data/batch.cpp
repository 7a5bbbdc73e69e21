#include "aeflow/data/batch.hpp"

#include <algorithm>

#include "aeflow/base/random.hpp"
#include "aeflow/base/vectorized.hpp"

namespace aeflow::data {

void fill_batch(const Dataset& dataset, const uint32_t* indices, size_t count, float* out) {
  const size_t width = dataset.width();
  constexpr float kScale = 1.0f / 255.0f;
  // The rows are scattered over the data set (a random permutation): ask for all their cache
  // lines first, so the misses overlap instead of arriving one row at a time.
  for (size_t r = 0; r < count; ++r) {
    const uint8_t* image = dataset.image(indices[r]);
    for (size_t k = 0; k < width; k += 64) __builtin_prefetch(image + k);
  }
  for (size_t r = 0; r < count; ++r) {
    const uint8_t* image = dataset.image(indices[r]);
    float* row = out + r * width;
#pragma omp simd
    for (size_t k = 0; k < width; ++k) row[k] = float(image[k]) * kScale;
  }
}

void fill_range(const Dataset& dataset, size_t first, size_t count, float* out) {
  scale_pixels(dataset.image(first), count * dataset.width(), out);
}

void scale_pixels(const uint8_t* pixels, size_t count, float* out) {
  constexpr float kScale = 1.0f / 255.0f;
#pragma omp simd
  for (size_t k = 0; k < count; ++k) out[k] = float(pixels[k]) * kScale;
}

AEFLOW_VECTORIZED void apply_masking_noise(float* batch, size_t width, const uint32_t* indices,
                                           size_t count, float rate, uint64_t seed,
                                           uint64_t epoch) {
  if (rate <= 0) return;
  // Each row's draws in chunks of a buffer on the stack (one chunk for MNIST's 784 pixels): the
  // stream continues across chunks, so the numbers are the same, and the step allocates nothing.
  constexpr size_t kChunk = 1024;
  float draws[kChunk];
  for (size_t r = 0; r < count; ++r) {
    RandomStream rng(seed, RandomPurpose::kNoise, epoch, indices[r]);
    float* row = batch + r * width;
    for (size_t begin = 0; begin < width; begin += kChunk) {
      const size_t n = std::min(kChunk, width - begin);
      rng.fill_uniform(draws, n);
      float* pixels = row + begin;
      // A select, not a branch: which pixels go is random, so a branch would be mispredicted
      // for a tenth of them at the usual rate.
#pragma omp simd
      for (size_t k = 0; k < n; ++k) pixels[k] = draws[k] < rate ? 0.0f : pixels[k];
    }
  }
}

}  // namespace aeflow::data
