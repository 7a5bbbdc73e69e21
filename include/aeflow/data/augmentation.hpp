// Random small affine distortions of the training images (a rotation, a scaling and a shift
// about the image's center), a new one for every example in every epoch: more examples of the
// handwriting's slant, size and position than the training set holds. The distorted image is
// both what the network reads and what it must reconstruct; masking noise, if any, comes after.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aeflow::data {

// The largest distortion: each example's angle is uniform in [-rotate_degrees, rotate_degrees],
// its scale in [1 - scale, 1 + scale], and its shift along each axis in [-shift, shift] pixels.
// All zero: no augmentation.
struct Augmentation {
  float rotate_degrees = 0;
  float scale = 0;
  float shift = 0;
  bool enabled() const { return rotate_degrees > 0 || scale > 0 || shift > 0; }
};

// Throws InputError (naming the --augment-* option) unless rotate_degrees is in [0, 180], scale
// in [0, 0.5] and shift in [0, half the shorter side of ROWS x COLS images): beyond those a
// distortion is no longer small, and the maps stay finite and invertible.
void check_augmentation(const Augmentation& augmentation, size_t rows, size_t cols);

// One example's distortion: the image is turned by `angle` radians (a positive angle turns it
// clockwise as it is shown, rows running down), scaled by `scale` about its center and moved by
// (shift_x, shift_y) pixels (right and down).
struct AffineMap {
  float angle = 0;
  float scale = 1;
  float shift_x = 0;
  float shift_y = 0;
};

// The map of example INDEX in EPOCH: a function of (seed, epoch, index) alone, so it is the same
// whichever rank draws it, and on resume.
AffineMap draw_affine_map(const Augmentation& augmentation, uint64_t seed, uint64_t epoch,
                          uint32_t index);

// OUT = IN [rows, cols] under MAP: each output pixel samples the input at the map's inverse,
// bilinearly, with zero outside the image. MAP is finite with a scale of at least 0.5 (as
// check_augmentation's bounds give); IN and OUT may be the same memory.
void resample_affine(const float* in, float* out, size_t rows, size_t cols, const AffineMap& map);

// Row r of OUT = row r of IN under draw_affine_map(..., indices[r]), for COUNT rows of
// rows * cols pixels.
void apply_augmentation(const float* in, float* out, size_t rows, size_t cols,
                        const uint32_t* indices, size_t count, const Augmentation& augmentation,
                        uint64_t seed, uint64_t epoch);

}  // namespace aeflow::data
