// The PCA baseline: images with an exact low-rank structure are reconstructed perfectly at that
// rank (and not below it), the reconstruction MSE on the fitting set is the sum of the
// discarded eigenvalues over the width, and the components are orthonormal.
#include "aeflow/eval/pca.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "test_support.hpp"

namespace aeflow::eval {
namespace {

data::Dataset make_dataset(std::vector<uint8_t> pixels, size_t count) {
  data::Dataset d;
  d.name = "train";
  d.source = "memory";
  d.count = count;
  d.rows = d.cols = 28;
  d.pixels = std::move(pixels);
  d.labels.assign(count, 0);
  return d;
}

// COUNT images that are integer combinations of RANK fixed integer patterns (pattern values
// 0..5, coefficients 0..15, so every pixel stays within 0..255 and is exact): centered, they
// span exactly RANK dimensions.
data::Dataset low_rank_images(size_t count, size_t rank) {
  constexpr size_t kWidth = 784;
  RandomStream rng(42, RandomPurpose::kTest, 7);
  std::vector<std::vector<int>> patterns(rank, std::vector<int>(kWidth));
  for (auto& pattern : patterns)
    for (int& v : pattern) v = int(rng.below(6));
  std::vector<uint8_t> pixels(count * kWidth);
  for (size_t i = 0; i < count; ++i) {
    std::vector<int> coefficient(rank);
    for (int& c : coefficient) c = int(rng.below(16));
    for (size_t j = 0; j < kWidth; ++j) {
      int v = 0;
      for (size_t r = 0; r < rank; ++r) v += coefficient[r] * patterns[r][j];
      pixels[i * kWidth + j] = uint8_t(v);
    }
  }
  return make_dataset(std::move(pixels), count);
}

double mean_squared_error(const Pca& pca, const data::Dataset& d) {
  std::vector<double> errors(d.count);
  pca.squared_errors(d.pixels.data(), d.count, errors.data());
  return std::accumulate(errors.begin(), errors.end(), 0.0) / double(d.count * d.width());
}

TEST(PcaTest, ReconstructsExactLowRankDataPerfectlyAtThatRank) {
  const data::Dataset d = low_rank_images(300, 3);
  const mpi::Communicator self = mpi::Communicator::self();
  const Pca exact = fit_pca(d, 3, self);
  ASSERT_EQ(exact.k, 3u);
  ASSERT_EQ(exact.eigenvalues.size(), 784u);
  EXPECT_GT(exact.eigenvalues[2], 1e-3);
  for (size_t i = 3; i < 784; ++i) EXPECT_LT(exact.eigenvalues[i], 1e-13) << i;
  std::vector<double> errors(d.count);
  exact.squared_errors(d.pixels.data(), d.count, errors.data());
  for (size_t i = 0; i < d.count; ++i) EXPECT_LT(errors[i], 1e-20) << "image " << i;
  EXPECT_NEAR(exact.explained_variance(), 1.0, 1e-12);
  EXPECT_LT(exact.fit_mse(), 1e-15);

  // One component short, the error is the third eigenvalue.
  const Pca short_one = fit_pca(d, 2, self);
  EXPECT_GT(mean_squared_error(short_one, d), 1e-3 / 784);
  EXPECT_NEAR(mean_squared_error(short_one, d), exact.eigenvalues[2] / 784, 1e-12);
}

TEST(PcaTest, FitMseIsTheDiscardedEigenvaluesOverTheWidth) {
  std::vector<uint8_t> pixels, labels;
  test::synthetic_images(400, 28, 28, 3, pixels, labels);
  const data::Dataset d = make_dataset(pixels, 400);
  for (size_t k : {1, 5, 20}) {
    const Pca pca = fit_pca(d, k, mpi::Communicator::self());
    const double discarded =
        std::accumulate(pca.eigenvalues.begin() + long(k), pca.eigenvalues.end(), 0.0);
    EXPECT_NEAR(pca.fit_mse(), discarded / 784, 1e-15);
    EXPECT_NEAR(mean_squared_error(pca, d), pca.fit_mse(), 1e-9 * pca.fit_mse()) << "k " << k;
  }
}

TEST(PcaTest, ComponentsAreOrthonormalAndEigenvaluesDescend) {
  std::vector<uint8_t> pixels, labels;
  test::synthetic_images(200, 28, 28, 4, pixels, labels);
  const Pca pca = fit_pca(make_dataset(pixels, 200), 8, mpi::Communicator::self());
  for (size_t i = 1; i < pca.eigenvalues.size(); ++i)
    EXPECT_GE(pca.eigenvalues[i - 1], pca.eigenvalues[i]);
  for (size_t a = 0; a < 8; ++a)
    for (size_t b = 0; b < 8; ++b) {
      double dot = 0;
      for (size_t j = 0; j < 784; ++j)
        dot += pca.components[a * 784 + j] * pca.components[b * 784 + j];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12) << a << "," << b;
    }
}

// A sweep fits every component once and truncates the fit for each code width: the same
// baseline, to the bit, as a fit of that width.
TEST(PcaTest, AFullFitTruncatedIsTheFitOfThatWidth) {
  std::vector<uint8_t> pixels, labels;
  test::synthetic_images(300, 28, 28, 5, pixels, labels);
  const data::Dataset d = make_dataset(pixels, 300);
  const Pca full = fit_pca(d, 784, mpi::Communicator::self());
  for (size_t k : {1, 7, 30}) {
    const Pca direct = fit_pca(d, k, mpi::Communicator::self());
    const Pca truncated = full.truncated(k);
    EXPECT_EQ(truncated.k, k);
    EXPECT_EQ(truncated.components, direct.components) << "k " << k;
    EXPECT_EQ(truncated.eigenvalues, direct.eigenvalues);
    EXPECT_EQ(truncated.fit_mse(), direct.fit_mse());
    std::vector<double> a(10), b(10);
    truncated.squared_errors(d.image(0), 10, a.data());
    direct.squared_errors(d.image(0), 10, b.data());
    EXPECT_EQ(a, b);
  }
  EXPECT_EQ(full.truncated(5).truncated(900).k, 5u);  // (never more than it has)
}

TEST(PcaTest, RefusesAnEmptyFittingSet) {
  EXPECT_THROW(fit_pca(make_dataset({}, 0), 4, mpi::Communicator::self()), InputError);
}

}  // namespace
}  // namespace aeflow::eval
