// The sweep table (aeflow-sweep): every column round-trips, settings get typed columns (numbers
// as float64, anything else as strings), validation curves of different lengths are padded with
// NaN and read back at their lengths, h5py reads it, and other files are refused by name.
#include "aeflow/io/sweep_table.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "aeflow/io/hdf5.hpp"
#include "aeflow/io/metrics.hpp"
#include "test_support.hpp"

namespace aeflow::io {
namespace {

std::vector<SweepRow> two_rows() {
  SweepRow a;
  a.name = "k=2,activation=elu";
  a.run_dir = "k=2,activation=elu-0123456789abcdef";
  a.config = "lr = 0.001\n";
  a.config_hash = "0123456789abcdef";
  a.settings = {{"k", "2"}, {"activation", "elu"}};
  a.k = 2;
  a.status = RunStatus::kDone;
  a.attempts = 2;
  a.test_mse = 0.04, a.test_rmse = 0.2, a.test_bce = 0.3, a.pca_rmse = 0.25;
  a.knn_accuracy = 0.75, a.last_val_loss = 0.041;
  a.epochs = 3, a.best_epoch = 2, a.wall_seconds = 12.5, a.ranks = 2, a.group = 1;
  a.val_loss = {0.1, 0.05, 0.041};
  SweepRow b = a;
  b.name = "k=10,activation=relu";
  b.settings = {{"k", "10"}, {"activation", "relu"}};
  b.k = 10;
  b.status = RunStatus::kFailed;
  b.error = "the training loss is NaN at step 7: \"quoted\"\nand a second line";
  b.test_mse = b.test_rmse = SweepRow::kNaN;
  b.val_loss = {0.2};
  return {a, b};
}

TEST(SweepTableTest, EveryColumnRoundTrips) {
  const std::string path = test::make_temp_dir("sweep-table") + "/sweep.h5";
  const std::vector<SweepRow> rows = two_rows();
  write_sweep_table(path, "[sweep]\ndims = 2,10\n", rows);
  const std::vector<SweepRow> back = read_sweep_table(path);
  ASSERT_EQ(back.size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    const SweepRow &a = rows[r], &b = back[r];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.run_dir, a.run_dir);
    EXPECT_EQ(b.config, a.config);
    EXPECT_EQ(b.config_hash, a.config_hash);
    EXPECT_EQ(b.settings, a.settings);
    EXPECT_EQ(b.k, a.k);
    EXPECT_EQ(b.status, a.status);
    EXPECT_EQ(b.attempts, a.attempts);
    EXPECT_EQ(b.error, a.error);
    EXPECT_EQ(b.test_rmse == a.test_rmse || (std::isnan(a.test_rmse) && std::isnan(b.test_rmse)),
              true);
    EXPECT_EQ(b.pca_rmse, a.pca_rmse);
    EXPECT_EQ(b.knn_accuracy, a.knn_accuracy);
    EXPECT_EQ(b.epochs, a.epochs);
    EXPECT_EQ(b.best_epoch, a.best_epoch);
    EXPECT_EQ(b.wall_seconds, a.wall_seconds);
    EXPECT_EQ(b.ranks, a.ranks);
    EXPECT_EQ(b.group, a.group);
    EXPECT_EQ(b.val_loss, a.val_loss);
  }
  const h5::File file = h5::File::open(path);
  EXPECT_EQ(file.string_attribute("format"), "aeflow-sweep");
  EXPECT_EQ(file.open_dataset("runs/settings/k").info().dtype, h5::DType::kFloat64);
  EXPECT_EQ(file.open_dataset("runs/settings/activation").info().dtype, h5::DType::kString);
  std::vector<size_t> shape;
  const std::vector<double> curves = file.read_dataset<double>("curves/val_loss", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{2, 3}));
  EXPECT_TRUE(std::isnan(curves[4]) && std::isnan(curves[5]));
}

TEST(SweepTableTest, AnEmptyTableIsAValidFile) {
  const std::string path = test::make_temp_dir("sweep-table") + "/sweep.h5";
  write_sweep_table(path, "", {});
  EXPECT_TRUE(read_sweep_table(path).empty());
}

TEST(SweepTableTest, H5pyReadsTheColumns) {
  if (test::run_command(std::string(AEFLOW_PYTHON) + " -c 'import h5py'").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE("needs python3-h5py");
  const std::string dir = test::make_temp_dir("sweep-table");
  write_sweep_table(dir + "/sweep.h5", "", two_rows());
  const auto result = test::run_command(
      std::string(AEFLOW_PYTHON) + " -c \"import h5py, numpy as np; f = h5py.File('" + dir +
      "/sweep.h5'); r = f['runs']; print(list(r['name'].asstr()[()]), "
      "list(r['status'].asstr()[()]), "
      "r['k'][()].tolist(), r['settings/k'][()].tolist(), "
      "list(r['settings/activation'].asstr()[()]), "
      "f['curves/val_loss'].shape, f.attrs['format'])\"");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_CONTAINS(result.output,
                  "['k=2,activation=elu', 'k=10,activation=relu'] ['done', 'failed'] [2, 10] "
                  "[2.0, 10.0] ['elu', 'relu'] (2, 3) aeflow-sweep");
}

TEST(SweepTableTest, OtherFilesAreRefusedByName) {
  const std::string dir = test::make_temp_dir("sweep-table");
  MetricsData metrics;
  EXPECT_CONTAINS(test::input_error([&] { read_sweep_table(dir + "/missing.h5"); }),
                  "no such file");
  {
    h5::File file = h5::File::create(dir + "/other.h5", h5::CreateMode::kExclusive);
    file.set_string_attribute("format", "aeflow-metrics");
    file.close();
  }
  EXPECT_EQ(test::input_error([&] { read_sweep_table(dir + "/other.h5"); }),
            dir + "/other.h5: is an aeflow-metrics file, not a sweep table");
}

TEST(SweepTableTest, RunStatusNamesRoundTrip) {
  for (RunStatus status : {RunStatus::kPending, RunStatus::kDone, RunStatus::kFailed,
                           RunStatus::kInterrupted, RunStatus::kPruned})
    EXPECT_EQ(parse_run_status(to_string(status)), status);
  EXPECT_CONTAINS(test::input_error([] { parse_run_status("finished"); }), "finished");
}

}  // namespace
}  // namespace aeflow::io
