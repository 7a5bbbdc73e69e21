// Batches: pixel scaling, and masking noise (how many pixels it zeroes, which, and that the
// mask is a function of (seed, epoch, example) alone, as bit-for-bit resume needs).
#include "aeflow/data/batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "aeflow/base/random.hpp"

namespace aeflow::data {
namespace {

constexpr size_t kWidth = 784;

// COUNT rows of nonzero pixels (so a zero can only be the mask's), each pixel its own value.
std::vector<float> nonzero_rows(size_t count) {
  std::vector<float> batch(count * kWidth);
  for (size_t i = 0; i < batch.size(); ++i) batch[i] = float(1 + i % 251) / 255.0f;
  return batch;
}

std::vector<uint32_t> first_indices(size_t count) {
  std::vector<uint32_t> indices(count);
  std::iota(indices.begin(), indices.end(), 0u);
  return indices;
}

TEST(Batch, FillBatchScalesTheIndexedImagesToUnitRange) {
  Dataset dataset;
  dataset.count = 3, dataset.rows = 1, dataset.cols = 2;
  dataset.pixels = {0, 255, 51, 102, 7, 9};
  const uint32_t indices[] = {2, 0};
  std::vector<float> out(4);
  fill_batch(dataset, indices, 2, out.data());
  const float expected[] = {7 / 255.0f, 9 / 255.0f, 0.0f, 1.0f};
  for (size_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], expected[i]) << i;
  // Bitwise the scaling evaluation uses (fill_range), so a model is scored on the very inputs
  // it trained on.
  std::vector<float> ranged(2);
  fill_range(dataset, 2, 1, ranged.data());
  EXPECT_EQ(ranged, std::vector<float>(out.begin(), out.begin() + 2));
}

// The fraction of zeroed pixels is the rate: over 784,000 pixels the count of masked ones is
// binomial, and stays within 6 standard deviations of n * rate (and so does each row's, within
// its own). The pixels not masked keep their exact values.
TEST(Batch, MaskingNoiseZeroesTheRateOfThePixels) {
  constexpr size_t kRows = 1000;
  const std::vector<float> clean = nonzero_rows(kRows);
  const std::vector<uint32_t> indices = first_indices(kRows);
  for (float rate : {0.05f, 0.25f, 0.5f, 0.9f}) {
    std::vector<float> noisy = clean;
    apply_masking_noise(noisy.data(), kWidth, indices.data(), kRows, rate, 7, 0);
    size_t zeros = 0;
    for (size_t r = 0; r < kRows; ++r) {
      size_t row_zeros = 0;
      for (size_t k = 0; k < kWidth; ++k) {
        const size_t i = r * kWidth + k;
        if (noisy[i] == 0.0f)
          ++row_zeros;
        else
          ASSERT_EQ(noisy[i], clean[i]) << "pixel " << i << " changed but not zeroed";
      }
      const double row_sd = std::sqrt(kWidth * rate * (1 - rate));
      EXPECT_NEAR(double(row_zeros), kWidth * rate, 6 * row_sd) << "row " << r << " rate " << rate;
      zeros += row_zeros;
    }
    const double n = double(kRows * kWidth);
    EXPECT_NEAR(double(zeros), n * rate, 6 * std::sqrt(n * rate * (1 - rate))) << "rate " << rate;
  }
}

TEST(Batch, MaskingNoiseAtRateZeroChangesNothing) {
  const std::vector<float> clean = nonzero_rows(10);
  std::vector<float> noisy = clean;
  apply_masking_noise(noisy.data(), kWidth, first_indices(10).data(), 10, 0.0f, 7, 0);
  EXPECT_EQ(noisy, clean);
}

std::vector<float> masked_row(uint32_t example, uint64_t seed, uint64_t epoch) {
  std::vector<float> row = nonzero_rows(1);
  apply_masking_noise(row.data(), kWidth, &example, 1, 0.3f, seed, epoch);
  return row;
}

// A row's mask depends on its example index, the seed and the epoch, not on where the row sits
// in the batch or which other rows share it (so ranks and resumed runs draw the same masks);
// and another epoch, seed or example draws another mask.
TEST(Batch, MaskingNoiseIsKeyedBySeedEpochAndExample) {
  const std::vector<uint32_t> indices = {42, 5, 17};
  std::vector<float> batch = nonzero_rows(3);
  // (the rows of nonzero_rows(3) differ; make each the row masked_row starts from)
  for (size_t r = 1; r < 3; ++r)
    std::copy_n(batch.begin(), kWidth, batch.begin() + long(r * kWidth));
  apply_masking_noise(batch.data(), kWidth, indices.data(), 3, 0.3f, 7, 2);
  for (size_t r = 0; r < 3; ++r) {
    const std::vector<float> row(batch.begin() + long(r * kWidth),
                                 batch.begin() + long((r + 1) * kWidth));
    EXPECT_EQ(row, masked_row(indices[r], 7, 2)) << "row " << r;
  }
  const std::vector<float> base = masked_row(42, 7, 2);
  EXPECT_EQ(masked_row(42, 7, 2), base);
  EXPECT_NE(masked_row(42, 7, 3), base);  // reshuffled epochs get fresh masks
  EXPECT_NE(masked_row(42, 8, 2), base);
  EXPECT_NE(masked_row(43, 7, 2), base);
}

// Which pixels go is fixed: pixel k of a row is zeroed exactly when the k-th draw of that
// example's noise stream is below the rate. The jobs' documented results depend on these bits,
// so the test pins them, on a row wider than the chunk the draws are made in.
TEST(Batch, MaskingNoiseZeroesWhereTheExamplesStreamDrawsBelowTheRate) {
  const size_t width = 2500;
  const uint32_t example = 9;
  const float rate = 0.25f;
  std::vector<float> row(width, 0.5f);
  apply_masking_noise(row.data(), width, &example, 1, rate, 11, 4);
  RandomStream stream(11, RandomPurpose::kNoise, 4, example);
  size_t zeroed = 0;
  for (size_t k = 0; k < width; ++k) {
    const bool masked = stream.uniform() < rate;
    ASSERT_EQ(row[k], masked ? 0.0f : 0.5f) << "pixel " << k;
    zeroed += masked;
  }
  EXPECT_GT(zeroed, width / 8);  // (not a vacuous pass: about a quarter of them)
}

}  // namespace
}  // namespace aeflow::data
