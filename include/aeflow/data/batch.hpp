// Turning examples into the float batches the network reads: pixels scaled to [0, 1], and
// masking noise for denoising autoencoders (the input is corrupted, the target stays clean).
#pragma once

#include <cstddef>
#include <cstdint>

#include "aeflow/data/dataset.hpp"

namespace aeflow::data {

// out[r] = dataset.image(indices[r]) / 255 for r < count; out is [count, width].
void fill_batch(const Dataset& dataset, const uint32_t* indices, size_t count, float* out);
// The same for a contiguous range of examples [first, first + count).
void fill_range(const Dataset& dataset, size_t first, size_t count, float* out);
// The same scaling for COUNT pixels held anywhere: out[k] = pixels[k] / 255.
void scale_pixels(const uint8_t* pixels, size_t count, float* out);

// Sets a fraction `rate` of each row's pixels to zero. The mask of a row depends only on
// (seed, epoch, example index), so it is the same whichever rank draws it, and on resume.
void apply_masking_noise(float* batch, size_t width, const uint32_t* indices, size_t count,
                         float rate, uint64_t seed, uint64_t epoch);

}  // namespace aeflow::data
