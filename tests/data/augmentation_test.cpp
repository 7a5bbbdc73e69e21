// Augmentation: the resampling's geometry (a shift by whole pixels moves every pixel exactly, a
// quarter turn maps rows to columns, a combined map sends a dot where the forward map says, and
// extreme maps give what a plain implementation gives), the draws' bounds, the options' bounds,
// and that an example's map is a function of (seed, epoch, example) alone, as bit-for-bit resume
// and any number of ranks need.
#include "aeflow/data/augmentation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

#include "aeflow/base/error.hpp"

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
  for (size_t j = 0; j < kCols; ++j) {
    const float left = j > 0 ? image[5 * kCols + j - 1] : 0.0f;  // (the zero outside)
    EXPECT_FLOAT_EQ(out[5 * kCols + j], 0.5f * (image[5 * kCols + j] + left)) << j;
  }
}

// A quarter turn about the center (13.5, 13.5) maps pixel centers onto pixel centers: with y
// pointing down, a positive angle turns right into down and up into right, so input (i, j) lands
// on output (j, 27 - i). A transpose (a mirror, not a turn) would put it on (j, i).
TEST(Augmentation, AQuarterTurnMovesEveryPixelWhereTheTurnSays) {
  const std::vector<float> image = distinct_image();
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {std::numbers::pi_v<float> / 2, 1, 0, 0});
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 0; j < kCols; ++j)
      ASSERT_NEAR(out[j * kCols + (kCols - 1 - i)], image[i * kCols + j], 1e-5f) << i << "," << j;
}

// Where a map sends a dot: its center of mass moves to center + scale R(angle) (dot - center) +
// shift, for maps that turn, scale and shift at once, on a square and on a wider-than-tall image.
TEST(Augmentation, ACombinedMapMovesADotWhereTheForwardMapSays) {
  struct Case {
    size_t rows, cols;
    AffineMap map;
  };
  for (const Case& c : {Case{28, 28, {0.3f, 1.2f, 1.5f, -2.0f}}, Case{28, 28, {-0.5f, 0.8f, -1, 1}},
                        Case{12, 20, {0.25f, 1.1f, 1.0f, 0.5f}}}) {
    const float center_x = 0.5f * float(c.cols - 1), center_y = 0.5f * float(c.rows - 1);
    // A 2x2 dot a little off the center, right and up.
    const size_t dot_i = c.rows / 2 - 2, dot_j = c.cols / 2 + 2;
    std::vector<float> image(c.rows * c.cols, 0.0f), out(c.rows * c.cols);
    for (size_t i : {dot_i, dot_i + 1})
      for (size_t j : {dot_j, dot_j + 1}) image[i * c.cols + j] = 1.0f;
    resample_affine(image.data(), out.data(), c.rows, c.cols, c.map);
    float mass = 0, moment_i = 0, moment_j = 0;
    for (size_t i = 0; i < c.rows; ++i)
      for (size_t j = 0; j < c.cols; ++j) {
        mass += out[i * c.cols + j];
        moment_i += float(i) * out[i * c.cols + j];
        moment_j += float(j) * out[i * c.cols + j];
      }
    const float dx = float(dot_j) + 0.5f - center_x, dy = float(dot_i) + 0.5f - center_y;
    const float turned_x = std::cos(c.map.angle) * dx - std::sin(c.map.angle) * dy;
    const float turned_y = std::sin(c.map.angle) * dx + std::cos(c.map.angle) * dy;
    // Bilinear sampling moves a dot's center of mass by up to ~0.1 pixel (most where it shrinks);
    // the shift applied before the turn and the scale instead of after would move it 0.3-0.9
    // pixels along one axis or the other in each of these cases.
    EXPECT_NEAR(moment_j / mass, center_x + c.map.scale * turned_x + c.map.shift_x, 0.12f);
    EXPECT_NEAR(moment_i / mass, center_y + c.map.scale * turned_y + c.map.shift_y, 0.12f);
    EXPECT_NEAR(mass, 4.0f * c.map.scale * c.map.scale, 0.2f);  // (area grows as scale^2)
  }
}

// The plain way: std::floor, and each neighbour checked against the image's bounds.
std::vector<float> resample_by_the_book(const std::vector<float>& in, size_t rows, size_t cols,
                                        const AffineMap& map) {
  std::vector<float> out(rows * cols);
  const float center_x = 0.5f * float(cols - 1), center_y = 0.5f * float(rows - 1);
  const float cos_a = std::cos(map.angle) / map.scale, sin_a = std::sin(map.angle) / map.scale;
  const auto at = [&](long y, long x) {
    return y >= 0 && x >= 0 && y < long(rows) && x < long(cols) ? in[size_t(y) * cols + size_t(x)]
                                                                : 0.0f;
  };
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) {
      const float dx = float(j) - center_x - map.shift_x, dy = float(i) - center_y - map.shift_y;
      const float x = cos_a * dx + sin_a * dy + center_x, y = -sin_a * dx + cos_a * dy + center_y;
      const float x0 = std::floor(x), y0 = std::floor(y), fx = x - x0, fy = y - y0;
      const long xi = long(x0), yi = long(y0);
      const float top = (1.0f - fx) * at(yi, xi) + fx * at(yi, xi + 1);
      const float bottom = (1.0f - fx) * at(yi + 1, xi) + fx * at(yi + 1, xi + 1);
      out[i * cols + j] = (1.0f - fy) * top + fy * bottom;
    }
  return out;
}

// Every map check_augmentation allows, to its extremes (half turns, half and one-and-a-half
// sizes, shifts just short of half the image), on a square and an odd, wider-than-tall image:
// the same values as the plain way (and, under the sanitizers, no read outside the image's
// padded copy).
TEST(Augmentation, ExtremeMapsGiveWhatThePlainWayGives) {
  for (const auto& [rows, cols] : {std::pair<size_t, size_t>{28, 28}, {5, 9}}) {
    std::vector<float> image(rows * cols);
    for (size_t k = 0; k < image.size(); ++k) image[k] = float(1 + k % 7) / 7.0f;
    const float shift = 0.4999f * float(std::min(rows, cols));
    std::vector<AffineMap> maps;
    for (float angle : {-std::numbers::pi_v<float>, -1.0f, 0.0f, 0.7f, std::numbers::pi_v<float>})
      for (float scale : {0.5f, 1.0f, 1.5f})
        for (float shift_x : {-shift, 0.0f, shift}) maps.push_back({angle, scale, shift_x, -shift});
    const Augmentation widest{180.0f, 0.5f, shift};
    for (uint32_t example = 0; example < 200; ++example)
      maps.push_back(draw_affine_map(widest, 5, 0, example));
    std::vector<float> out(rows * cols);
    for (const AffineMap& map : maps) {
      resample_affine(image.data(), out.data(), rows, cols, map);
      const std::vector<float> expected = resample_by_the_book(image, rows, cols, map);
      for (size_t k = 0; k < out.size(); ++k)
        ASSERT_FLOAT_EQ(out[k], expected[k]) << rows << "x" << cols << " pixel " << k << " angle "
                                             << map.angle << " scale " << map.scale;
    }
  }
}

TEST(Augmentation, CheckRefusesWhatIsNotASmallDistortion) {
  EXPECT_NO_THROW(check_augmentation({180.0f, 0.5f, 13.9f}, 28, 28));
  EXPECT_NO_THROW(check_augmentation({}, 28, 28));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const Augmentation& bad :
       {Augmentation{-1, 0, 0}, Augmentation{181, 0, 0}, Augmentation{nan, 0, 0},
        Augmentation{0, -0.1f, 0}, Augmentation{0, 0.6f, 0}, Augmentation{0, nan, 0},
        Augmentation{0, 0, -1}, Augmentation{0, 0, 14}, Augmentation{0, 0, inf}}) {
    EXPECT_THROW(check_augmentation(bad, 28, 28), InputError);
  }
  // Half the SHORTER side: 2.5 pixels of a 5x9 image.
  EXPECT_NO_THROW(check_augmentation({0, 0, 2.4f}, 5, 9));
  try {
    check_augmentation({0, 0, 2.5f}, 5, 9);
    ADD_FAILURE() << "a shift of half the shorter side was accepted";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "--augment-shift 2.5: must be at least 0 and below 2.5 (half the shorter side of "
                 "the 5x9 images)");
  }
}

TEST(Augmentation, ScalingKeepsTheCenterAndMovesAPixelAwayFromIt) {
  std::vector<float> image(kWidth, 0.0f);
  image[13 * kCols + 13] = image[13 * kCols + 14] = 1.0f;
  image[14 * kCols + 13] = image[14 * kCols + 14] = 1.0f;  // a 2x2 block around the center
  image[13 * kCols + 18] = 1.0f;                           // and a pixel 4.5 right, 0.5 up
  std::vector<float> out(kWidth);
  resample_affine(image.data(), out.data(), kRows, kCols, {0, 2, 0, 0});
  // Twice the size: the block's 4 center pixels stay lit (each samples inside the block), the
  // lone pixel now lies 9 right of the center: at column 22.5.
  for (size_t i : {13u, 14u})
    for (size_t j : {13u, 14u}) EXPECT_GT(out[i * kCols + j], 0.5f) << i << "," << j;
  float mass = 0, moment_j = 0;
  for (size_t i = 0; i < kRows; ++i)
    for (size_t j = 18; j < kCols; ++j) {
      mass += out[i * kCols + j];
      moment_j += float(j) * out[i * kCols + j];
    }
  EXPECT_NEAR(moment_j / mass, 22.5f, 0.05f);
  EXPECT_EQ(out[13 * kCols + 18], 0.0f);  // the old place is dark
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
