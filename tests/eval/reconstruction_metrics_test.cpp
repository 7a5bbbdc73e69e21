// measure_reconstruction on a tiny untrained model and synthetic digits, in one process: the
// summary agrees with the training evaluator and with its own per-class and per-sample parts,
// psnr is the mean of per-image psnr, the PCA baseline is fit_pca's, the samples are the first
// of each label with the network's own reconstructions, kNN leaves an image's own code out when
// asked, and a model of another input width is refused.
#include "aeflow/eval/reconstruction_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/eval/evaluator.hpp"
#include "aeflow/eval/image_quality.hpp"
#include "aeflow/eval/pca.hpp"
#include "aeflow/model/loss.hpp"
#include "test_support.hpp"

namespace aeflow::eval {
namespace {

namespace fs = std::filesystem;

class ReconstructionMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("metrics");
    test::write_synthetic_mnist(dir_, 700, 300);
    const data::Dataset all = data::load_split(dir_, data::Split::kTrain);
    reference_ = all.slice(100, all.count);
    test_ = data::load_split(dir_, data::Split::kTest);
    spec_.encoder = {784, 16, 4};
    network_ = std::make_unique<model::Network>(spec_, false);
    network_->initialize(5);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(dir_, ignored);
  }

  std::string dir_;
  data::Dataset reference_, test_;
  model::ModelSpec spec_;
  std::unique_ptr<model::Network> network_;
  const mpi::Communicator self_ = mpi::Communicator::self();
};

TEST_F(ReconstructionMetricsTest, SummaryAgreesWithTheEvaluatorAndItsParts) {
  const io::MetricsData m = measure_reconstruction(*network_, test_, reference_, self_);
  const io::MetricsSummary& s = m.summary;
  ASSERT_EQ(s.count, 300);
  const Evaluation evaluation =
      evaluate(*network_, model::Loss(model::LossKind::kMse), test_, self_);
  EXPECT_NEAR(s.mse, evaluation.mse, 1e-6 * s.mse);  // Loss sums float terms in chunks
  EXPECT_NEAR(s.rmse, std::sqrt(s.mse), 1e-15);
  const Evaluation l1 = evaluate(*network_, model::Loss(model::LossKind::kL1), test_, self_);
  EXPECT_NEAR(s.mae, l1.loss, 1e-6 * s.mae);

  // Per class: counts add up to the split, count-weighted means to the summary.
  int64_t count = 0;
  double mse = 0, ssim_sum = 0, correct = 0;
  for (const io::ClassMetrics& c : m.per_class) {
    count += c.count;
    mse += c.mse * double(c.count);
    ssim_sum += c.ssim * double(c.count);
    correct += c.knn_accuracy * double(c.count);
  }
  EXPECT_EQ(count, 300);
  EXPECT_EQ(m.per_class.size(), 10u);
  EXPECT_NEAR(mse / 300, s.mse, 1e-12);
  EXPECT_NEAR(ssim_sum / 300, s.ssim, 1e-12);
  EXPECT_NEAR(correct / 300, s.knn_accuracy, 1e-12);

  // Per sample: float32 mse per image, averaging to the summary; psnr is the mean per-image psnr.
  ASSERT_EQ(m.sample_mse.size(), 300u);
  EXPECT_EQ(m.sample_label, test_.labels);
  double sample_mse = 0, psnr = 0, sample_ssim = 0;
  for (size_t i = 0; i < 300; ++i) {
    sample_mse += m.sample_mse[i];
    psnr += psnr_db(m.sample_mse[i]);
    sample_ssim += m.sample_ssim[i];
  }
  EXPECT_NEAR(sample_mse / 300, s.mse, 1e-6 * s.mse);
  EXPECT_NEAR(psnr / 300, s.psnr, 1e-5);
  EXPECT_NEAR(sample_ssim / 300, s.ssim, 1e-6);
  EXPECT_GT(s.psnr, 0);
  EXPECT_GT(s.ssim, -1);
  EXPECT_LT(s.ssim, 1);
  EXPECT_GT(s.bce, 0);
}

TEST_F(ReconstructionMetricsTest, PcaBaselineIsFitPcaOnTheReference) {
  const io::MetricsData m = measure_reconstruction(*network_, test_, reference_, self_);
  const Pca pca = fit_pca(reference_, 4, self_);
  std::vector<double> errors(test_.count);
  pca.squared_errors(test_.pixels.data(), test_.count, errors.data());
  const double mse = std::accumulate(errors.begin(), errors.end(), 0.0) / (300.0 * 784);
  EXPECT_NEAR(m.summary.pca_mse, mse, 1e-12);
  EXPECT_NEAR(m.summary.pca_rmse, std::sqrt(mse), 1e-12);
  EXPECT_EQ(m.pca.k, 4);
  EXPECT_EQ(m.pca.fit_count, 600);
  EXPECT_EQ(m.pca.eigenvalues, pca.eigenvalues);
  EXPECT_EQ(m.pca.components.size(), 4u * 784);
  EXPECT_NEAR(m.pca.fit_mse, pca.fit_mse(), 0);
  // On these blobs, 4 components explain much of the variance; an untrained model does worse.
  EXPECT_LT(m.summary.pca_mse, m.summary.mse);
}

// A sweep hands every run a PCA fitted once with every component: the metrics are the same, to
// the bit, as with a baseline fitted for the run; one fitted on other images is refused.
TEST_F(ReconstructionMetricsTest, AGivenFullPcaGivesTheSameMetrics) {
  const io::MetricsData fitted = measure_reconstruction(*network_, test_, reference_, self_);
  const Pca full = fit_pca(reference_, 784, self_);
  MetricsOptions options;
  options.pca = &full;
  const io::MetricsData given =
      measure_reconstruction(*network_, test_, reference_, self_, options);
  EXPECT_EQ(given.summary.pca_mse, fitted.summary.pca_mse);
  EXPECT_EQ(given.sample_pca_mse, fitted.sample_pca_mse);
  EXPECT_EQ(given.pca.k, 4);
  EXPECT_EQ(given.pca.components, fitted.pca.components);
  const Pca other = fit_pca(reference_.slice(0, 100), 784, self_);
  options.pca = &other;
  EXPECT_THROW(measure_reconstruction(*network_, test_, reference_, self_, options), RunError);
}

TEST_F(ReconstructionMetricsTest, SamplesAreTheFirstTenOfEachLabelWithTheirReconstructions) {
  const io::MetricsData m = measure_reconstruction(*network_, test_, reference_, self_);
  const io::SampleImages& s = m.samples;
  std::map<uint8_t, std::vector<int64_t>> expected;
  for (size_t i = 0; i < test_.count; ++i)
    if (expected[test_.labels[i]].size() < 10) expected[test_.labels[i]].push_back(int64_t(i));
  std::vector<int64_t> indices;
  for (const auto& [label, list] : expected)
    indices.insert(indices.end(), list.begin(), list.end());
  ASSERT_EQ(s.index, indices);
  ASSERT_EQ(s.input.size(), indices.size() * 784);
  ASSERT_EQ(s.code.size(), indices.size() * 4);
  // Recompute three of them one at a time.
  for (size_t slot : {size_t(0), size_t(17), indices.size() - 1}) {
    const size_t i = size_t(indices[slot]);
    EXPECT_EQ(s.label[slot], test_.labels[i]);
    std::vector<float> x(784);
    data::fill_range(test_, i, 1, x.data());
    const float* y = network_->forward(x.data(), 1, false);
    for (size_t j = 0; j < 784; ++j) {
      EXPECT_EQ(s.input[slot * 784 + j], x[j]);
      EXPECT_NEAR(s.reconstruction[slot * 784 + j], y[j], 1e-5);
    }
    for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(s.code[slot * 4 + j], network_->code()[j], 1e-5);
  }
}

TEST_F(ReconstructionMetricsTest, KnnLeavesTheImagesOwnCodeOutWhenAsked) {
  MetricsOptions options;
  options.knn_neighbours = 1;
  const io::MetricsData with_self =
      measure_reconstruction(*network_, reference_, reference_, self_, options);
  EXPECT_EQ(with_self.summary.knn_accuracy, 1.0);  // each image finds itself
  options.exclude_self = true;
  const io::MetricsData without =
      measure_reconstruction(*network_, reference_, reference_, self_, options);
  EXPECT_LT(without.summary.knn_accuracy, 1.0);
  EXPECT_GT(without.summary.knn_accuracy, 0.3);  // still far better than chance (0.1)
  EXPECT_TRUE(without.knn.exclude_self);
  EXPECT_EQ(without.knn.reference_count, 600);
}

TEST_F(ReconstructionMetricsTest, ReferenceCanBeCut) {
  MetricsOptions options;
  options.knn_reference = 250;
  const io::MetricsData m = measure_reconstruction(*network_, test_, reference_, self_, options);
  EXPECT_EQ(m.knn.reference_count, 250);
  EXPECT_EQ(m.pca.fit_count, 600);  // PCA still fits on all of it
}

TEST_F(ReconstructionMetricsTest, RefusesAModelOfAnotherInputWidth) {
  model::ModelSpec spec;
  spec.encoder = {100, 8};
  model::Network narrow(spec, false);
  try {
    measure_reconstruction(narrow, test_, reference_, self_);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("100"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("784"), std::string::npos) << error.what();
  }
}

TEST_F(ReconstructionMetricsTest, WritesTheFileOnceAndRefusesToOverwrite) {
  const std::string path = dir_ + "/metrics.h5";
  std::ostringstream log;
  const MetricsTarget target{path, false, "# config\n", "ck.h5", "test", {}};
  write_reconstruction_metrics(*network_, test_, reference_, target, self_, log);
  EXPECT_TRUE(fs::exists(path));
  EXPECT_NE(log.str().find("kNN accuracy"), std::string::npos) << log.str();
  EXPECT_THROW(write_reconstruction_metrics(*network_, test_, reference_, target, self_, log),
               InputError);
  MetricsTarget again = target;
  again.overwrite = true;
  write_reconstruction_metrics(*network_, test_, reference_, again, self_, log);
}

}  // namespace
}  // namespace aeflow::eval
