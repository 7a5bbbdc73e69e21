// Augmentation: the resampling's geometry (a shift by whole pixels moves every pixel exactly, a
// quarter turn maps rows to columns, a scale keeps the center), the draws' bounds, and that an
// example's map is a function of (seed, epoch, example) alone, as bit-for-bit resume and any
// number of ranks need.
#include "aeflow/data/augmentation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <vector>

namespace aeflow::data {
namespace {

constexpr size_t kRows = 28, kCols = 28, kWidth = kRows * kCols;

// Each pixel its own value, none zero: a pixel that moved can be told from one that did not.
std::vector<float> distinct_image() {
  std::vector<float> image(kWidth);
  for (size_t k = 0; k < kWidth; ++k) image[k] = float(1 + k) / float(kWidth);
  return image;
}

TEST(Augmentation, TheIdentityMapLeavesEveryPixelAsItWas) {
  const std::vector<float> image = distinct_image();
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, AffineMap{});
  EXPECT_EQ(out, image);
}

TEST(Augmentation, AShiftByWholePixelsMovesEveryPixelAndFillsWithZero) {
  const std::vector<float> image = distinct_image();
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {0, 1, 2, -1});  // 2 right, 1 up
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 0; j < kCols; ++j) {
      const long from_i = long(i) + 1, from_j = long(j) - 2;
      const float expected = from_i < long(kRows) && from_j >= 0
                                 ? image[size_t(from_i) * kCols + size_t(from_j)]
                                 : 0.0f;
      EXPECT_EQ(out[i * kCols + j], expected) << i << "," << j;
    }
}

TEST(Augmentation, AHalfPixelShiftAveragesNeighbours) {
  const std::vector<float> image = distinct_image();
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {0, 1, 0.5f, 0});
  for (size_t j = 1; j < kCols; ++j)
    EXPECT_FLOAT_EQ(out[5 * kCols + j], 0.5f * (image[5 * kCols + j] + image[5 * kCols + j - 1]));
}

TEST(Augmentation, AQuarterTurnMapsRowsToColumns) {
  // One bright pixel on the center row, 10 to the right of the center: a quarter turn puts it
  // on the center column, 10 above or below the center.
  std::vector<float> image(kWidth, 0.0f);
  const float center = 0.5f * float(kCols - 1);  // 13.5: between pixels 13 and 14
  image[13 * kCols + 24] = 1.0f;
  image[14 * kCols + 24] = 1.0f;  // (two pixels, so the dot sits on the center row)
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {std::numbers::pi_v<float> / 2, 1, 0, 0});
  // The turned dot: pixels (i, 13) and (i, 14) for the i 10.5 from the center, above or below.
  float mass = 0, moment_i = 0, moment_j = 0;
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 0; j < kCols; ++j) {
      mass += out[i * kCols + j];
      moment_i += float(i) * out[i * kCols + j];
      moment_j += float(j) * out[i * kCols + j];
    }
  EXPECT_NEAR(mass, 2.0f, 1e-4f);
  EXPECT_NEAR(moment_j / mass, center, 1e-3f);
  EXPECT_NEAR(std::abs(moment_i / mass - center), 10.5f, 1e-3f);
}

TEST(Augmentation, ScalingKeepsTheCenterAndMovesAPixelAwayFromIt) {
  std::vector<float> image(kWidth, 0.0f);
  image[13 * kCols + 13] = image[13 * kCols + 14] = 1.0f;
  image[14 * kCols + 13] = image[14 * kCols + 14] = 1.0f;  // a 2x2 block around the center
  image[13 * kCols + 20] = 1.0f;                           // and a pixel 6.5 right, 0.5 up
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {0, 2, 0, 0});
  // Twice the size: the block's 4 center pixels stay lit (each samples inside the block), the
  // lone pixel now lies 13 right of the center: at column 26.5.
  for (size_t i : {13u, 14u})
    for (size_t j : {13u, 14u}) EXPECT_GT(out[i * kCols + j], 0.5f) << i << "," << j;
  float mass = 0, moment_j = 0;
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 20; j < kCols; ++j) {
      mass += out[i * kCols + j];
      moment_j += float(j) * out[i * kCols + j];
    }
  EXPECT_NEAR(moment_j / mass, 26.5f, 0.3f);
  EXPECT_EQ(out[13 * kCols + 20], 0.0f);  // the old place is dark
}

TEST(Augmentation, DrawsStayWithinTheBoundsAndFillThem) {
  const Augmentation augmentation{10.0f, 0.1f, 2.0f};
  const float max_angle = 10.0f * std::numbers::pi_v<float> / 180.0f;
  float lowest_angle = 1, highest_angle = -1, lowest_scale = 2, highest_scale = 0;
  float lowest_shift = 9, highest_shift = -9;
  for (uint32_t example = 0; example < 2000; ++example) {
    const AffineMap map = draw_affine_map(augmentation, 3, 1, example);
    ASSERT_LE(std::abs(map.angle), max_angle);
    ASSERT_LE(std::abs(map.scale - 1.0f), 0.1f + 1e-6f);
    ASSERT_LE(std::abs(map.shift_x), 2.0f);
    ASSERT_LE(std::abs(map.shift_y), 2.0f);
    lowest_angle = std::min(lowest_angle, map.angle);
    highest_angle = std::max(highest_angle, map.angle);
    lowest_scale = std::min(lowest_scale, map.scale);
    highest_scale = std::max(highest_scale, map.scale);
    lowest_shift = std::min({lowest_shift, map.shift_x, map.shift_y});
    highest_shift = std::max({highest_shift, map.shift_x, map.shift_y});
  }
  // Uniform draws: 2000 of them come within 1% of both ends of each range.
  EXPECT_LT(lowest_angle, -0.99f * max_angle);
  EXPECT_GT(highest_angle, 0.99f * max_angle);
  EXPECT_LT(lowest_scale, 0.901f);
  EXPECT_GT(highest_scale, 1.099f);
  EXPECT_LT(lowest_shift, -1.98f);
  EXPECT_GT(highest_shift, 1.98f);
}

TEST(Augmentation, AnExamplesMapDependsOnSeedEpochAndExampleOnly) {
  const Augmentation augmentation{8.0f, 0.05f, 1.0f};
  const auto same = [](const AffineMap& a, const AffineMap& b) {
    return a.angle == b.angle && a.scale == b.scale && a.shift_x == b.shift_x &&
           a.shift_y == b.shift_y;
  };
  EXPECT_TRUE(
      same(draw_affine_map(augmentation, 7, 2, 41), draw_affine_map(augmentation, 7, 2, 41)));
  EXPECT_FALSE(
      same(draw_affine_map(augmentation, 7, 2, 41), draw_affine_map(augmentation, 7, 3, 41)));
  EXPECT_FALSE(
      same(draw_affine_map(augmentation, 7, 2, 41), draw_affine_map(augmentation, 8, 2, 41)));
  EXPECT_FALSE(
      same(draw_affine_map(augmentation, 7, 2, 41), draw_affine_map(augmentation, 7, 2, 42)));

  // In a batch, a row is its example's image under its example's map, wherever the row is.
  const std::vector<float> image = distinct_image();
  std::vector<float> batch(3 * kWidth);
  for (size_t r = 0; r < 3; ++r) std::copy(image.begin(), image.end(), batch.begin() + r * kWidth);
  const uint32_t indices[] = {5, 41, 9};
  std::vector<float> out(3 * kWidth);
  apply_augmentation(batch.data(), out.data(), kRows, kCols, indices, 3, augmentation, 7, 2);
  std::vector<float> alone(kWidth);
  resample_affine(image.data(), alone.data(), kRows, kCols,
                  draw_affine_map(augmentation, 7, 2, 41));
  EXPECT_EQ(std::vector<float>(out.begin() + kWidth, out.begin() + 2 * kWidth), alone);
  EXPECT_NE(std::vector<float>(out.begin(), out.begin() + kWidth), alone);
}

TEST(Augmentation, OnlyTheDistortionsThatAreOnAreDrawn) {
  EXPECT_FALSE(Augmentation{}.enabled());
  const AffineMap only_shift = draw_affine_map({0, 0, 1.5f}, 7, 2, 41);
  EXPECT_EQ(only_shift.angle, 0.0f);
  EXPECT_EQ(only_shift.scale, 1.0f);
  EXPECT_NE(only_shift.shift_x, 0.0f);
  // The shift is the same whether or not the others are on: every map draws all four numbers.
  const AffineMap all = draw_affine_map({5, 0.1f, 1.5f}, 7, 2, 41);
  EXPECT_EQ(all.shift_x, only_shift.shift_x);
  EXPECT_EQ(all.shift_y, only_shift.shift_y);
}

}  // namespace
}  // namespace aeflow::data
