#include "aeflow/data/augmentation.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "aeflow/base/vectorized.hpp"

namespace aeflow::data {

void check_augmentation(const Augmentation& augmentation, size_t rows, size_t cols) {
  const auto refuse = [](const char* option, float value, const std::string& bounds) {
    std::ostringstream message;
    message << "--augment-" << option << " " << value << ": must be " << bounds;
    throw InputError(message.str());
  };
  // (Written so that NaN fails every check.)
  if (!(augmentation.rotate_degrees >= 0 && augmentation.rotate_degrees <= 180))
    refuse("rotate", augmentation.rotate_degrees, "in [0, 180] degrees");
  if (!(augmentation.scale >= 0 && augmentation.scale <= 0.5f))
    refuse("scale", augmentation.scale, "in [0, 0.5]");
  const size_t shorter = std::min(rows, cols);
  if (!(augmentation.shift >= 0 && 2 * double(augmentation.shift) < double(shorter))) {
    std::ostringstream bounds;
    bounds << "at least 0 and below " << 0.5 * double(shorter) << " (half the shorter side of the "
           << rows << "x" << cols << " images)";
    refuse("shift", augmentation.shift, bounds.str());
  }
}

AffineMap draw_affine_map(const Augmentation& augmentation, uint64_t seed, uint64_t epoch,
                          uint32_t index) {
  RandomStream rng(seed, RandomPurpose::kAugment, epoch, index);
  // Uniform in [-1, 1): four draws, always, so a map's parts do not depend on which are on.
  const auto symmetric = [&rng] { return 2.0f * rng.uniform() - 1.0f; };
  const float turn = symmetric(), grow = symmetric(), right = symmetric(), down = symmetric();
  constexpr float kRadiansPerDegree = std::numbers::pi_v<float> / 180.0f;
  return {turn * augmentation.rotate_degrees * kRadiansPerDegree, 1.0f + grow * augmentation.scale,
          right * augmentation.shift, down * augmentation.shift};
}

namespace {

// IMAGE [rows, cols] into PADDED [rows + 2, cols + 2] with a border of zeros one pixel wide:
// every bilinear sample that touches the image then reads its four neighbours from PADDED
// without a bounds check of its own.
void pad_with_zeros(const float* image, size_t rows, size_t cols, float* padded) {
  const size_t padded_cols = cols + 2;
  std::fill_n(padded, padded_cols, 0.0f);
  for (size_t i = 0; i < rows; ++i) {
    float* row = padded + (i + 1) * padded_cols;
    row[0] = 0.0f;
    std::copy_n(image + i * cols, cols, row + 1);
    row[cols + 1] = 0.0f;
  }
  std::fill_n(padded + (rows + 1) * padded_cols, padded_cols, 0.0f);
}

// std::floor(v), exactly, for |v| < 2^31 (std::floor is a call to libm on baseline x86-64, and
// one a pixel kept the loop from being vectorized).
inline float floor_of(float v) {
  const float truncated = float(int(v));
  return truncated - float(truncated > v);
}

AEFLOW_VECTORIZED void resample_padded(const float* padded, float* out, size_t rows, size_t cols,
                                       const AffineMap& map) {
  // Output pixel (i, j) is the input at the inverse map of its offset from the center: turned
  // back, shrunk back, shifted back.
  const float center_x = 0.5f * float(cols - 1), center_y = 0.5f * float(rows - 1);
  const float cos_a = std::cos(map.angle) / map.scale, sin_a = std::sin(map.angle) / map.scale;
  const int padded_cols = int(cols) + 2;
  const float width = float(cols), height = float(rows);
  for (size_t i = 0; i < rows; ++i) {
    const float dy = float(int(i)) - center_y - map.shift_y;
    float* out_row = out + i * cols;
    // The pixels whose four neighbours all lie outside the image sample zero: they read
    // somewhere in the padded image and are then zeroed. No branch: the loop vectorizes, with
    // gathers.
#pragma omp simd
    for (int j = 0; j < int(cols); ++j) {
      const float dx = float(j) - center_x - map.shift_x;
      const float x = cos_a * dx + sin_a * dy + center_x;
      const float y = -sin_a * dx + cos_a * dy + center_y;
      const float inside = float((x >= -1.0f) & (y >= -1.0f) & (x < width) & (y < height));
      // Outside: (0, 0), any pixel's place will do. (x and y are finite: the map's contract.)
      const float x_in = inside * x, y_in = inside * y;
      const float x0 = floor_of(x_in), y0 = floor_of(y_in);
      const float fx = x_in - x0, fy = y_in - y0;
      const int above = (int(y0) + 1) * padded_cols + int(x0) + 1;
      const int below = above + padded_cols;
      const float top = (1.0f - fx) * padded[above] + fx * padded[above + 1];
      const float bottom = (1.0f - fx) * padded[below] + fx * padded[below + 1];
      out_row[j] = inside * ((1.0f - fy) * top + fy * bottom);
    }
  }
}

}  // namespace

void resample_affine(const float* in, float* out, size_t rows, size_t cols, const AffineMap& map) {
  std::vector<float> padded((rows + 2) * (cols + 2));
  pad_with_zeros(in, rows, cols, padded.data());
  resample_padded(padded.data(), out, rows, cols, map);
}

void apply_augmentation(const float* in, float* out, size_t rows, size_t cols,
                        const uint32_t* indices, size_t count, const Augmentation& augmentation,
                        uint64_t seed, uint64_t epoch) {
  const size_t width = rows * cols;
  // Called on every training step: the padded copy's memory is kept from one call to the next
  // (per thread), so a step allocates nothing once the first has run.
  thread_local std::vector<float> padded;
  padded.resize((rows + 2) * (cols + 2));
  for (size_t r = 0; r < count; ++r) {
    pad_with_zeros(in + r * width, rows, cols, padded.data());
    resample_padded(padded.data(), out + r * width, rows, cols,
                    draw_affine_map(augmentation, seed, epoch, indices[r]));
  }
}

}  // namespace aeflow::data
