// Per-image quality measures of a reconstruction against its original, on images with pixel
// values in [0, 1] (data range L = 1): PSNR and SSIM. Plain functions over row-major float
// images; `aeflow eval` averages them over a split.
#pragma once

#include <cstddef>

namespace aeflow::eval {

// Peak signal-to-noise ratio in dB of an image with mean squared error MSE (peak 1):
// 10 log10(1 / mse). MSE is floored at 1e-10, so a perfect reconstruction scores 100 dB, not
// infinity (an average over images stays finite).
double psnr_db(double mse);
constexpr double kPsnrCapDb = 100.0;

// Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) of two ROWS x COLS images:
// the mean, over every position where the window fits inside the image ("valid", no padding),
// of ((2 mu_x mu_y + C1)(2 s_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2)), with
// means, variances and covariance weighted by an 11 x 11 Gaussian window (sigma 1.5, weights
// normalized to sum 1), C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = 1. This is the reference
// implementation's definition (ssim_index.m), also skimage's structural_similarity with
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1. Images smaller
// than 11 pixels in a dimension use the largest odd window that fits (same sigma).
// Identical images score exactly 1.
double ssim(const float* x, const float* y, size_t rows, size_t cols);

}  // namespace aeflow::eval
