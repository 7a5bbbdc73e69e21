// The walks of `aeflow decode` (--grid, --circle, --fixed): the points they promise, and the
// refusals, the size limits among them (a walk is held in memory).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/infer/decode.hpp"
#include "test_support.hpp"

namespace aeflow::infer {
namespace {

TEST(DecodeWalkTest, AGridWalksRowMajorWithTheFixedDimensionsAfter) {
  std::vector<size_t> shape;
  const std::vector<float> points = grid_points("0:1:2,-1:1:3", {5.0f}, 3, &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{3, 2}));
  EXPECT_EQ(points, (std::vector<float>{0, -1, 5, 1, -1, 5, 0, 0, 5, 1, 0, 5, 0, 1, 5, 1, 1, 5}));
}

TEST(DecodeWalkTest, ACircleHasItsPointsOnTheRadius) {
  const std::vector<float> points = circle_points("2:4", {}, 2);
  ASSERT_EQ(points.size(), 8u);
  EXPECT_FLOAT_EQ(points[0], 2.0f);
  EXPECT_NEAR(points[3], 2.0f, 1e-6);  // the second point, at a quarter turn: (0, 2)
}

TEST(DecodeWalkTest, FixedValuesAreNumbers) {
  EXPECT_EQ(parse_fixed(""), std::vector<float>{});
  EXPECT_EQ(parse_fixed("0.5,-2"), (std::vector<float>{0.5f, -2.0f}));
  test::expect_error<InputError>([] { parse_fixed("1,,2"); }, {"--fixed", "is not a number"});
  test::expect_error<InputError>([] { parse_fixed("inf"); }, {"'inf' is not a number"});
}

TEST(DecodeWalkTest, MalformedWalksAreRefused) {
  test::expect_error<InputError>([] { grid_points("0:1", {}, 2, nullptr); },
                                 {"expected x0:x1:nx or x0:x1:nx,y0:y1:ny"});
  test::expect_error<InputError>([] { grid_points("0:1:0", {}, 2, nullptr); },
                                 {"'0' is not a count of points"});
  test::expect_error<InputError>([] { circle_points("1", {}, 2); }, {"expected radius:n"});
  test::expect_error<InputError>([] { circle_points("1:4", {}, 1); }, {"--circle"});
}

// A walk is decoded whole in memory: a mistyped count is refused, not tried (before the limits,
// "0:1:2000000000" asked for gigabytes).
TEST(DecodeWalkTest, AWalkOfMorePointsOrValuesThanTheLimitsIsRefused) {
  std::vector<size_t> shape;
  EXPECT_EQ(grid_points("0:1:1024,0:1:1024", {}, 2, &shape).size(), kMaxWalkPoints * 2);
  test::expect_error<InputError>([] { grid_points("0:1:1025,0:1:1024", {}, 2, nullptr); },
                                 {"1049600 points of 2 values: a walk decodes at most 1048576"});
  test::expect_error<InputError>([] { grid_points("0:1:2000000000", {}, 2, nullptr); },
                                 {"a walk decodes at most"});
  test::expect_error<InputError>([] { circle_points("1:1000000", std::vector<float>(98), 100); },
                                 {"1000000 points of 100 values", "67108864 values in all"});
}

}  // namespace
}  // namespace aeflow::infer
