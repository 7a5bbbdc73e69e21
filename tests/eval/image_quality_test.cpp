// PSNR and SSIM of single images: identical images score SSIM 1, constant images score the
// luminance term worked by hand, and natural-ish pairs match an independent numpy
// implementation (a 2-D window over sliding views, not the separable filter of the C++ code).
#include "aeflow/eval/image_quality.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace aeflow::eval {
namespace {

TEST(PsnrTest, IsTenLog10OfOneOverMse) {
  EXPECT_NEAR(psnr_db(0.01), 20.0, 1e-12);
  EXPECT_NEAR(psnr_db(0.001), 30.0, 1e-12);
  EXPECT_NEAR(psnr_db(1.0), 0.0, 1e-12);
  EXPECT_NEAR(psnr_db(0.25), 10.0 * std::log10(4.0), 1e-12);
}

TEST(PsnrTest, PerfectReconstructionIsCappedAt100Db) {
  EXPECT_EQ(psnr_db(0.0), kPsnrCapDb);
  EXPECT_EQ(psnr_db(1e-12), kPsnrCapDb);
}

// A synthetic digit from the test data and a degraded copy of it: dimmed, offset, with a
// deterministic ripple, so luminance, contrast and structure all differ a little.
void image_pair(size_t rows, size_t cols, uint64_t seed, std::vector<float>& x,
                std::vector<float>& y) {
  std::vector<uint8_t> pixels, labels;
  test::synthetic_images(1, uint32_t(rows), uint32_t(cols), seed, pixels, labels);
  x.resize(rows * cols);
  y.resize(rows * cols);
  for (size_t i = 0; i < rows * cols; ++i) {
    x[i] = float(pixels[i]) / 255.0f;
    const float ripple = 0.08f * std::sin(0.7f * float(i % cols) + 0.3f * float(i / cols));
    y[i] = std::clamp(0.8f * x[i] + 0.05f + ripple, 0.0f, 1.0f);
  }
}

TEST(SsimTest, IdenticalImagesScoreExactlyOne) {
  std::vector<float> x, y;
  image_pair(28, 28, 3, x, y);
  EXPECT_EQ(ssim(x.data(), x.data(), 28, 28), 1.0);
  EXPECT_EQ(ssim(y.data(), y.data(), 28, 28), 1.0);
  const std::vector<float> blank(28 * 28, 0.0f);
  EXPECT_EQ(ssim(blank.data(), blank.data(), 28, 28), 1.0);
}

// Constant images have zero variances and covariance, so the contrast-structure term is
// C2 / C2 = 1 and SSIM is the luminance term (2 a b + C1) / (a^2 + b^2 + C1) everywhere.
TEST(SsimTest, ConstantImagesScoreTheLuminanceTerm) {
  const std::vector<float> a(28 * 28, 0.2f), b(28 * 28, 0.6f);
  const double fa = double(0.2f), fb = double(0.6f), c1 = 1e-4;
  const double expected = (2 * fa * fb + c1) / (fa * fa + fb * fb + c1);  // 0.2401 / 0.4001
  EXPECT_NEAR(ssim(a.data(), b.data(), 28, 28), expected, 1e-12);
  EXPECT_NEAR(expected, 0.2401 / 0.4001, 1e-7);
}

TEST(SsimTest, IsSymmetricAndBelowOneForDifferentImages) {
  std::vector<float> x, y;
  image_pair(28, 28, 5, x, y);
  const double forward = ssim(x.data(), y.data(), 28, 28);
  EXPECT_NEAR(forward, ssim(y.data(), x.data(), 28, 28), 1e-15);
  EXPECT_LT(forward, 0.999);
  EXPECT_GT(forward, 0.0);
}

TEST(SsimTest, MatchesAnIndependentNumpyImplementation) {
  const std::string python = AEFLOW_PYTHON;
  if (test::run_command(python + " -c 'import numpy'").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE(python << " has no numpy");
  const std::string dir = test::make_temp_dir("ssim");
  const std::string script_path = dir + "/ssim.py";
  std::ofstream(script_path) <<
      R"(import sys
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
rows, cols = int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(sys.argv[1], dtype='<f4').reshape(rows, cols).astype(np.float64)
y = np.fromfile(sys.argv[2], dtype='<f4').reshape(rows, cols).astype(np.float64)
size = min(11, rows, cols)
size -= 1 - size % 2
t = np.arange(size) - size // 2
g = np.exp(-t**2 / (2 * 1.5**2))
w = np.outer(g, g)
w /= w.sum()
f = lambda a: np.einsum('ijkl,kl->ij', sliding_window_view(a, (size, size)), w)
mx, my = f(x), f(y)
vx, vy, cxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
c1, c2 = 0.01**2, 0.03**2
s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
print(repr(float(s.mean())))
)";
  struct Shape {
    size_t rows, cols;
    uint64_t seed;
  };
  for (const Shape& shape :
       {Shape{28, 28, 7}, Shape{28, 28, 8}, Shape{16, 20, 9}, Shape{9, 24, 4}}) {
    std::vector<float> x, y;
    image_pair(shape.rows, shape.cols, shape.seed, x, y);
    auto bytes = [](const std::vector<float>& v) {
      const auto* p = reinterpret_cast<const uint8_t*>(v.data());
      return std::vector<uint8_t>(p, p + v.size() * sizeof(float));
    };
    test::write_file(dir + "/x.f32", bytes(x));
    test::write_file(dir + "/y.f32", bytes(y));
    const test::CommandResult result =
        test::run_command(python + " " + script_path + " " + dir + "/x.f32 " + dir + "/y.f32 " +
                          std::to_string(shape.rows) + " " + std::to_string(shape.cols));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const double expected = std::stod(result.output);
    const double actual = ssim(x.data(), y.data(), shape.rows, shape.cols);
    EXPECT_NEAR(actual, expected, 1e-12) << shape.rows << "x" << shape.cols;
    EXPECT_LT(actual, 0.99);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aeflow::eval
