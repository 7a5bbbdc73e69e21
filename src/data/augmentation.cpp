#include "aeflow/data/augmentation.hpp"

#include <cmath>
#include <numbers>

#include "aeflow/base/random.hpp"

namespace aeflow::data {

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

void resample_affine(const float* in, float* out, size_t rows, size_t cols, const AffineMap& map) {
  // Output pixel (i, j) is the input at the inverse map of its offset from the center: turned
  // back, shrunk back, shifted back.
  const float center_x = 0.5f * float(cols - 1), center_y = 0.5f * float(rows - 1);
  const float cos_a = std::cos(map.angle) / map.scale, sin_a = std::sin(map.angle) / map.scale;
  const auto pixel = [&](long y, long x) {
    return y >= 0 && x >= 0 && y < long(rows) && x < long(cols) ? in[size_t(y) * cols + size_t(x)]
                                                                : 0.0f;
  };
  for (size_t i = 0; i < rows; ++i) {
    const float dy = float(i) - center_y - map.shift_y;
    for (size_t j = 0; j < cols; ++j) {
      const float dx = float(j) - center_x - map.shift_x;
      const float x = cos_a * dx + sin_a * dy + center_x;
      const float y = -sin_a * dx + cos_a * dy + center_y;
      const float x0 = std::floor(x), y0 = std::floor(y);
      const float fx = x - x0, fy = y - y0;
      const long xi = long(x0), yi = long(y0);
      const float top = (1.0f - fx) * pixel(yi, xi) + fx * pixel(yi, xi + 1);
      const float bottom = (1.0f - fx) * pixel(yi + 1, xi) + fx * pixel(yi + 1, xi + 1);
      out[i * cols + j] = (1.0f - fy) * top + fy * bottom;
    }
  }
}

void apply_augmentation(const float* in, float* out, size_t rows, size_t cols,
                        const uint32_t* indices, size_t count, const Augmentation& augmentation,
                        uint64_t seed, uint64_t epoch) {
  const size_t width = rows * cols;
  for (size_t r = 0; r < count; ++r)
    resample_affine(in + r * width, out + r * width, rows, cols,
                    draw_affine_map(augmentation, seed, epoch, indices[r]));
}

}  // namespace aeflow::data
