// Reconstruction metrics across the ranks of this MPI job (ctest runs it under mpiexec -n 1, 2
// and 4): every number equals the single-rank computation (Communicator::self() on each rank), so
// the metrics do not depend on the number of ranks; only rank 0 writes the file.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <sstream>
#include <string>

#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/reconstruction_metrics.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

// Bit-for-bit: the design keeps every image in the same fixed block on any number of ranks and
// sums per-image records in split order.
void expect_same(double a, double b, const char* what) {
  EXPECT_EQ(std::bit_cast<uint64_t>(a), std::bit_cast<uint64_t>(b))
      << what << ": " << a << " vs " << b;
}

TEST(EvalMpiTest, MetricsDoNotDependOnTheNumberOfRanks) {
  const mpi::Communicator world = mpi::Communicator::world();
  std::string dir = world.is_root() ? test::make_temp_dir("eval-mpi") : std::string();
  world.broadcast(dir);
  // 700 test images: 3 blocks of 256, so 4 ranks get 0 to 1 block each (one gets none).
  if (world.is_root()) test::write_synthetic_mnist(dir, 900, 700);
  world.barrier();
  const data::Dataset all = data::load_split(dir, data::Split::kTrain);
  const data::Dataset reference = all.slice(100, all.count);
  const data::Dataset test_split = data::load_split(dir, data::Split::kTest);
  model::ModelSpec spec;
  spec.encoder = {784, 24, 6};
  spec.hidden = model::Activation::kRelu;
  model::Network network(spec, false);
  network.initialize(9);

  const io::MetricsData one =
      eval::measure_reconstruction(network, test_split, reference, mpi::Communicator::self());
  const std::string path = dir + "/metrics.h5";
  std::ostringstream log;
  const io::MetricsData many = eval::write_reconstruction_metrics(
      network, test_split, reference, {path, false, "# mpi\n", "none", "test", {}}, world, log);

  EXPECT_EQ(many.world_size, world.size());
  const io::MetricsSummary &a = one.summary, &b = many.summary;
  EXPECT_EQ(a.count, b.count);
  expect_same(a.mse, b.mse, "mse");
  expect_same(a.rmse, b.rmse, "rmse");
  expect_same(a.bce, b.bce, "bce");
  expect_same(a.mae, b.mae, "mae");
  expect_same(a.psnr, b.psnr, "psnr");
  expect_same(a.ssim, b.ssim, "ssim");
  expect_same(a.pca_mse, b.pca_mse, "pca_mse");
  expect_same(a.knn_accuracy, b.knn_accuracy, "knn_accuracy");
  EXPECT_EQ(one.pca.eigenvalues, many.pca.eigenvalues);
  EXPECT_EQ(one.pca.components, many.pca.components);
  ASSERT_EQ(one.per_class.size(), many.per_class.size());
  for (size_t c = 0; c < one.per_class.size(); ++c) {
    EXPECT_EQ(one.per_class[c].count, many.per_class[c].count);
    expect_same(one.per_class[c].mse, many.per_class[c].mse, "class mse");
    expect_same(one.per_class[c].knn_accuracy, many.per_class[c].knn_accuracy, "class knn");
  }
  EXPECT_EQ(one.sample_mse, many.sample_mse);
  EXPECT_EQ(one.sample_ssim, many.sample_ssim);
  EXPECT_EQ(one.sample_pca_mse, many.sample_pca_mse);
  EXPECT_EQ(one.samples.index, many.samples.index);
  EXPECT_EQ(one.samples.reconstruction, many.samples.reconstruction);
  EXPECT_EQ(one.samples.code, many.samples.code);

  // Rank 0 wrote the file and printed; the others did neither.
  world.barrier();
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(log.str().empty(), !world.is_root());
  world.barrier();
  if (world.is_root() && !::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace aeflow
