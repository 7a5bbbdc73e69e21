// PSNR and SSIM (see image_quality.hpp). SSIM filters five maps (x, y, x^2, y^2, xy) with the
// separable Gaussian window, rows first, keeping only "valid" positions, all in double.
#include "aeflow/eval/image_quality.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace aeflow::eval {

double psnr_db(double mse) {
  return 10.0 * std::log10(1.0 / std::max(mse, 1e-10));
}

namespace {

constexpr size_t kWindow = 11;
constexpr double kSigma = 1.5;
constexpr double kC1 = 0.01 * 0.01, kC2 = 0.03 * 0.03;

// The 1-D Gaussian of SIZE taps (odd), normalized to sum 1; the 2-D window is its outer product.
std::vector<double> gaussian(size_t size) {
  std::vector<double> weights(size);
  const double center = double(size / 2);
  double sum = 0;
  for (size_t i = 0; i < size; ++i) {
    const double d = double(i) - center;
    weights[i] = std::exp(-d * d / (2 * kSigma * kSigma));
    sum += weights[i];
  }
  for (double& w : weights) w /= sum;
  return weights;
}

}  // namespace

double ssim(const float* x, const float* y, size_t rows, size_t cols) {
  size_t window = std::min({kWindow, rows, cols});
  if (window % 2 == 0) --window;
  if (window == 0) return 1.0;
  static thread_local std::vector<double> weights;
  if (weights.size() != window) weights = gaussian(window);
  const size_t out_rows = rows - window + 1, out_cols = cols - window + 1;

  // Horizontal pass: for every row, the window-weighted sums at each valid column.
  constexpr size_t kMaps = 5;  // x, y, x^2, y^2, xy
  std::vector<std::array<double, kMaps>> horizontal(rows * out_cols);
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* yr = y + r * cols;
    for (size_t c = 0; c < out_cols; ++c) {
      std::array<double, kMaps> sum{};
      for (size_t t = 0; t < window; ++t) {
        const double w = weights[t], a = xr[c + t], b = yr[c + t];
        sum[0] += w * a;
        sum[1] += w * b;
        sum[2] += w * a * a;
        sum[3] += w * b * b;
        sum[4] += w * a * b;
      }
      horizontal[r * out_cols + c] = sum;
    }
  }
  // Vertical pass and the SSIM map, averaged.
  double total = 0;
  for (size_t r = 0; r < out_rows; ++r) {
    for (size_t c = 0; c < out_cols; ++c) {
      std::array<double, kMaps> m{};
      for (size_t t = 0; t < window; ++t) {
        const auto& h = horizontal[(r + t) * out_cols + c];
        for (size_t k = 0; k < kMaps; ++k) m[k] += weights[t] * h[k];
      }
      const double mx = m[0], my = m[1];
      const double vx = m[2] - mx * mx, vy = m[3] - my * my, cxy = m[4] - mx * my;
      total +=
          ((2 * mx * my + kC1) * (2 * cxy + kC2)) / ((mx * mx + my * my + kC1) * (vx + vy + kC2));
    }
  }
  return total / double(out_rows * out_cols);
}

}  // namespace aeflow::eval
