// aeflow started by mpiexec as a user would: a 4-rank run resumed on 2 ranks, a failing rank that
// ends the whole job with its message once (never a hang), bad input reported once, and the
// fallback when the node's shared memory is too small. Each test starts its own mpiexec from this
// (non-MPI) test process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "aeflow/io/checkpoint.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

std::vector<float> flat_parameters(const io::CheckpointData& checkpoint) {
  std::vector<float> out;
  for (const auto& array : checkpoint.parameters)
    out.insert(out.end(), array.values.begin(), array.values.end());
  return out;
}

class MpiLaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("mpi-launch");
    test::write_synthetic_mnist(root_ + "/data", 1100, 200);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  std::string root_;
};

TEST_F(MpiLaunchTest, ResumeOnAnotherRankCountWorksAndSaysSo) {
  const std::string mpiexec = "timeout 120 mpiexec --oversubscribe -x OMP_NUM_THREADS=1 -n ";
  const std::string train = " " + test::aeflow_binary() + " train --data " + root_ +
                            "/data --encoder 784,32,8 --batch-size 64 --validation 100"
                            " --test-limit 200 --seed 3 --lr-schedule constant ";
  const auto whole =
      test::run_command(mpiexec + "4" + train + "--epochs 4 --out " + root_ + "/whole");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // mpiexec gives its ranks a pseudo-terminal even when its own output is a pipe: no progress
  // line (a log file would fill with them).
  EXPECT_EQ(whole.output.find('\r'), std::string::npos) << whole.output;
  const auto first =
      test::run_command(mpiexec + "4" + train + "--epochs 2 --out " + root_ + "/split");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto resumed = test::run_command(mpiexec + "2" + train + "--epochs 4 --resume auto --out " +
                                         root_ + "/split");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("written by 4 ranks, resuming on 2"), std::string::npos)
      << resumed.output;
  const auto a = io::read_checkpoint(root_ + "/whole/checkpoints/latest.h5");
  const auto b = io::read_checkpoint(root_ + "/split/checkpoints/latest.h5");
  EXPECT_EQ(b.state.world_size, 2);
  EXPECT_EQ(a.state.global_step, b.state.global_step);
  const auto pa = flat_parameters(a), pb = flat_parameters(b);
  ASSERT_EQ(pa.size(), pb.size());
  float max_diff = 0;
  for (size_t k = 0; k < pa.size(); ++k) max_diff = std::max(max_diff, std::fabs(pa[k] - pb[k]));
  EXPECT_LT(max_diff, 1e-4f);
}

// --grad-sync shared needs room for its windows where OpenMPI keeps them (/dev/shm; a
// container's is often 64 MB). Pointed at a 1 MB tmpfs, a 2-rank job says so, falls back to
// fused and trains to the end instead of dying in MPI_Win_allocate_shared. Needs root (mount).
TEST_F(MpiLaunchTest, TooLittleSharedMemoryFallsBackToFused) {
  if (geteuid() != 0) AEFLOW_SKIP_OR_REQUIRE("needs root to mount a small tmpfs");
  const std::string small = root_ + "/small-shm";
  fs::create_directories(small);
  if (test::run_command("mount -t tmpfs -o size=1m tmpfs " + small).exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE("cannot mount a tmpfs here");
  const auto result = test::run_command(
      "env OMPI_MCA_osc_sm_backing_directory=" + small +
      " timeout 120 mpiexec -n 2 --oversubscribe -x OMP_NUM_THREADS=1"
      " -x OMPI_MCA_osc_sm_backing_directory " +
      test::aeflow_binary() + " train --data " + root_ + "/data --out " + root_ +
      "/small-run --encoder 784,256,32 --validation 100 --test-limit 100 --steps 5");
  test::run_command("umount " + small);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("MB of shared memory"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("using --grad-sync fused"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("test rmse"), std::string::npos) << result.output;
}

// mpiexec -n 2 with rank 1 throwing at step 3: the job ends (MPI_Abort) with a non-zero code,
// well before the 60 s timeout, and the message is printed once.
TEST_F(MpiLaunchTest, FailedRankAbortsTheWholeJob) {
  const std::string out = root_ + "/failing";
  const auto result = test::run_command(
      "timeout 60 mpiexec -n 2 --oversubscribe " + test::aeflow_binary() + " train --data " +
      root_ + "/data --out " + out +
      " --encoder 784,32,8 --validation 100 --test-limit 100 --epochs 50 --fail-at-step 3"
      " --fail-rank 1");
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.exit_code, 124) << "timed out (a hang):\n" << result.output;
  EXPECT_EQ(count_of(result.output, "injected failure on rank 1"), 1u) << result.output;
  EXPECT_EQ(result.output.find("test rmse"), std::string::npos) << result.output;
}

// Bad input fails every rank alike: rank 0 prints the message and ends the job; the others stay
// quiet (they would speak only if rank 0 did not end the job). Exit code 2 from MPI_Abort.
TEST_F(MpiLaunchTest, BadInputUnderTwoRanksIsReportedOnce) {
  const auto result = test::run_command(
      "timeout 60 mpiexec -n 2 --oversubscribe " + test::aeflow_binary() + " train --data " +
      root_ + "/data --out " + root_ + "/bad --encoder 100,10 --validation 100");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string message = "--encoder starts with 100";
  EXPECT_EQ(count_of(result.output, message), 1u) << result.output;
}

}  // namespace
}  // namespace aeflow
