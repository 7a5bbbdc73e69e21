// `aeflow eval` end to end, and the metrics.h5 that `aeflow train` writes at the end of a run:
// h5py reads the layout (format, shapes, per-class counts adding up to the split), an existing
// file is never overwritten without --force, the default output lands in the run directory,
// a model of another input width is refused with exit code 2, --split train leaves each
// image's own code out of kNN, and `aeflow inspect` prints the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::run_command;

class EvalTest : public ::testing::Test {
 protected:
  // One tiny trained run shared by the tests (training is the slow part).
  static void SetUpTestSuite() {
    root_ = new std::string(test::make_temp_dir("eval"));
    data_ = new std::string(test::write_synthetic_mnist(*root_ + "/data", 600, 130));
    train_output_ = new test::CommandResult(
        run_command(test::aeflow_binary() + " train --data " + *data_ + " --out " + *root_ +
                    "/run --encoder 784,32,8 --validation 100 --epochs 1 --batch-size 32"));
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*root_, ignored);
    delete root_;
    delete data_;
    delete train_output_;
  }
  void SetUp() override { ASSERT_EQ(train_output_->exit_code, 0) << train_output_->output; }

  static std::string checkpoint() { return *root_ + "/run/checkpoints/latest.h5"; }
  static test::CommandResult eval(const std::string& args) {
    return run_command(test::aeflow_binary() + " eval --checkpoint " + checkpoint() + " --data " +
                       *data_ + " " + args);
  }
  // Runs a Python script with h5py on PATH; skips when h5py is missing.
  static test::CommandResult python(const std::string& script, const std::string& args) {
    const std::string path = *root_ + "/check.py";
    std::ofstream(path) << script;
    return run_command(std::string(AEFLOW_PYTHON) + " " + path + " " + args);
  }
  static bool has_h5py() {
    return run_command(std::string(AEFLOW_PYTHON) + " -c 'import h5py'").exit_code == 0;
  }

  static std::string* root_;
  static std::string* data_;
  static test::CommandResult* train_output_;
};

std::string* EvalTest::root_ = nullptr;
std::string* EvalTest::data_ = nullptr;
test::CommandResult* EvalTest::train_output_ = nullptr;

constexpr const char* kCheckLayout = R"(import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
split, n = sys.argv[2], int(sys.argv[3])
assert f.attrs['format'] == 'aeflow-metrics', f.attrs['format']
assert f.attrs['format_version'] == 1
assert isinstance(f.attrs['config'], str) and 'encoder = 784,32,8' in f.attrs['config']
assert f.attrs['split'] == split, f.attrs['split']
s = f['summary'].attrs
assert s['count'] == n, s['count']
for name in ['mse', 'rmse', 'bce', 'mae', 'psnr', 'ssim', 'pca_mse', 'pca_rmse', 'knn_accuracy']:
    assert np.isfinite(s[name]), name
assert abs(s['rmse'] - np.sqrt(s['mse'])) < 1e-12
assert 0 <= s['knn_accuracy'] <= 1 and -1 < s['ssim'] < 1
pc = f['per_class']
assert pc['count'][...].sum() == n, pc['count'][...]
assert list(pc['label'][...]) == sorted(set(f['per_sample/label'][...].tolist()))
assert abs((pc['mse'][...] * pc['count'][...]).sum() / n - s['mse']) < 1e-9
ps = f['per_sample']
assert ps['mse'].shape == (n,) and ps['mse'].dtype == np.float32
assert abs(ps['mse'][...].astype(np.float64).mean() - s['mse']) < 1e-6
assert ps['ssim'].shape == (n,) and ps['label'].dtype == np.uint8
sm = f['samples']
m = sm['index'].shape[0]
assert 0 < m <= 100, m
assert sm['input'].shape == (m, 28, 28) and sm['reconstruction'].shape == (m, 28, 28)
assert sm['code'].shape == (m, 8) and sm['input'].dtype == np.float32
assert np.all(np.diff(sm['label'][...].astype(int)) >= 0)
p = f['pca']
assert p.attrs['k'] == 8 and p['components'].shape == (8, 784) and p['eigenvalues'].shape == (784,)
assert abs(p.attrs['fit_mse'] - p['eigenvalues'][8:].sum() / 784) < 1e-12
assert f['knn'].attrs['neighbours'] == 5
assert len(f['history/epoch']) == 1
print('layout ok', f['knn'].attrs['exclude_self'], p.attrs['fit_count'], f['knn'].attrs['reference_count'])
)";

TEST_F(EvalTest, TrainWritesTheTestMetricsIntoTheRunDirectory) {
  EXPECT_CONTAINS(train_output_->output, "kNN accuracy");
  EXPECT_CONTAINS(train_output_->output, "wrote " + *root_ + "/run/metrics.h5");
  ASSERT_TRUE(fs::exists(*root_ + "/run/metrics.h5"));
  if (!has_h5py()) AEFLOW_SKIP_OR_REQUIRE("no h5py");
  const auto r = python(kCheckLayout, *root_ + "/run/metrics.h5 test 130");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "layout ok 0 500 500");
}

TEST_F(EvalTest, EvalWritesMetricsThatH5pyReads) {
  const std::string out = *root_ + "/eval-test.h5";
  const auto r = eval("--out " + out + " --test-limit 120 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("threads: --threads 1: 1 thread\n", 0), 0u) << r.output;
  EXPECT_CONTAINS(r.output, "mse");
  EXPECT_CONTAINS(r.output, "PCA");
  EXPECT_CONTAINS(r.output, "kNN accuracy");
  EXPECT_CONTAINS(r.output, "label  count");
  if (!has_h5py()) AEFLOW_SKIP_OR_REQUIRE("no h5py");
  const auto check = python(kCheckLayout, out + " test 120");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_CONTAINS(check.output, "layout ok 0 500 500");
}

TEST_F(EvalTest, SplitTrainEvaluatesTheTrainingImagesWithoutSelfMatches) {
  const std::string out = *root_ + "/eval-train.h5";
  const auto r = eval("--out " + out + " --split train");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "self excluded");
  if (!has_h5py()) AEFLOW_SKIP_OR_REQUIRE("no h5py");
  // The run's --validation 100 is the default: 500 training images.
  const auto check = python(kCheckLayout, out + " train 500");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_CONTAINS(check.output, "layout ok 1 500 500");
}

TEST_F(EvalTest, RefusesToOverwriteWithoutForce) {
  const std::string out = *root_ + "/eval-once.h5";
  ASSERT_EQ(eval("--out " + out).exit_code, 0);
  const auto before = test::read_file(out);
  const auto again = eval("--out " + out);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_CONTAINS(again.output, out + " exists; pass --force to overwrite");
  EXPECT_EQ(test::read_file(out), before);
  const auto forced = eval("--out " + out + " --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST_F(EvalTest, DefaultOutputIsTheRunDirectoryOrTheCurrentOne) {
  // Under RUN/checkpoints/: RUN/metrics.h5, which train already wrote.
  const auto r = eval("");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, *root_ + "/run/metrics.h5 exists");
  // Anywhere else: ./metrics.h5.
  const std::string elsewhere = *root_ + "/elsewhere";
  fs::create_directories(elsewhere);
  fs::copy_file(checkpoint(), elsewhere + "/model.h5");
  const auto here = run_command("cd " + elsewhere + " && " + test::aeflow_binary() +
                                " eval --checkpoint model.h5 --data " + *data_);
  EXPECT_EQ(here.exit_code, 0) << here.output;
  EXPECT_TRUE(fs::exists(elsewhere + "/metrics.h5"));
}

TEST_F(EvalTest, RefusesAModelOfAnotherInputWidth) {
  // 20x20 images: 400 pixels against the model's 784.
  const std::string small = *root_ + "/small";
  fs::create_directories(small);
  std::vector<uint8_t> pixels, labels;
  test::synthetic_images(300, 20, 20, 1, pixels, labels);
  test::write_file(small + "/train-images-idx3-ubyte", test::idx_images(pixels, 300, 20, 20));
  test::write_file(small + "/train-labels-idx1-ubyte", test::idx_labels(labels));
  test::write_file(small + "/t10k-images-idx3-ubyte", test::idx_images(pixels, 300, 20, 20));
  test::write_file(small + "/t10k-labels-idx1-ubyte", test::idx_labels(labels));
  const auto r = run_command(test::aeflow_binary() + " eval --checkpoint " + checkpoint() +
                             " --data " + small + " --out " + *root_ + "/never.h5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "784 pixels");
  EXPECT_CONTAINS(r.output, "have 400 (20x20)");
  EXPECT_FALSE(fs::exists(*root_ + "/never.h5"));
}

TEST_F(EvalTest, RefusesBadOptions) {
  auto r = eval("--split validation --out " + *root_ + "/x.h5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "expected test or train");
  r = run_command(test::aeflow_binary() + " eval --data " + *data_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--checkpoint");
  r = eval("--validation 600 --out " + *root_ + "/x.h5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "leaves no training images");
}

TEST_F(EvalTest, InspectPrintsTheMetricsFile) {
  const auto r = run_command(test::aeflow_binary() + " inspect " + *root_ + "/run/metrics.h5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "aeflow-metrics, format_version 1");
  EXPECT_CONTAINS(r.output, "test split, 130 images: mse ");
  EXPECT_CONTAINS(r.output, "5-NN accuracy ");
  EXPECT_CONTAINS(r.output, "summary/");
  EXPECT_CONTAINS(r.output, "@knn_accuracy = ");
  EXPECT_CONTAINS(r.output, "components  float32 [8, 784]");
  EXPECT_CONTAINS(r.output, "reconstruction  float32 [");
}

}  // namespace
}  // namespace aeflow
