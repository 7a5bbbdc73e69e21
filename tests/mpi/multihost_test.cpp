// Training across two test hosts (network namespaces joined by veth links, OpenMPI over TCP)
// gives the model one rank gives; a sweep across them claims its runs over TCP (MPI one-sided)
// and keeps each group of ranks within one host. Needs root and iproute2; reports skipped where
// namespaces cannot be made.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/sweep_table.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

class MultiHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) AEFLOW_SKIP_OR_REQUIRE("needs root to create network namespaces");
    turn_ = std::make_unique<test::TestHostsTurn>();  // (held until TearDown)
    script_ = test::source_dir() + "/scripts/netns-hosts.sh";
    const auto up = test::run_command(script_ + " up 2");
    if (up.exit_code != 0)
      AEFLOW_SKIP_OR_REQUIRE("cannot create network namespaces: " << up.output);
  }
  void TearDown() override {
    if (!script_.empty()) test::run_command(script_ + " down");
    turn_.reset();
  }
  std::string script_;
  std::unique_ptr<test::TestHostsTurn> turn_;
};

TEST_F(MultiHost, TwoRanksOnTwoHostsTrainTheModelOneRankTrains) {
  const std::string dir = test::make_temp_dir("multihost");
  test::write_synthetic_mnist(dir + "/data", 1200, 200);
  const std::string args = " train --data " + dir +
                           "/data --encoder 784,32,8 --batch-size 64"
                           " --steps 30 --validation 100 --seed 5 --force";
  const auto one = test::run_command(test::aeflow_binary() + args + " --out " + dir + "/one");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto hosts = test::run_command(
      "timeout 120 " + script_ +
      " mpirun -n 2 --map-by node -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"
      " -x OMP_NUM_THREADS=1 hostname");
  ASSERT_EQ(hosts.exit_code, 0) << hosts.output;
  EXPECT_NE(hosts.output.find("aefh1"), std::string::npos) << hosts.output;
  EXPECT_NE(hosts.output.find("aefh2"), std::string::npos) << hosts.output;
  const auto two = test::run_command(
      "timeout 300 " + script_ +
      " mpirun -n 2 --map-by node -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"
      " -x OMP_NUM_THREADS=1 " +
      test::aeflow_binary() + args + " --out " + dir + "/two");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("on 2 rank(s)"), std::string::npos) << two.output;

  const auto a = io::read_checkpoint(dir + "/one/checkpoints/latest.h5");
  const auto b = io::read_checkpoint(dir + "/two/checkpoints/latest.h5");
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  EXPECT_EQ(b.state.world_size, 2);
  float max_diff = 0;
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    ASSERT_EQ(a.parameters[i].values.size(), b.parameters[i].values.size());
    for (size_t k = 0; k < a.parameters[i].values.size(); ++k)
      max_diff =
          std::max(max_diff, std::fabs(a.parameters[i].values[k] - b.parameters[i].values[k]));
  }
  // Only the order of float sums differs (a shard's partial sums, then the all-reduce).
  EXPECT_LT(max_diff, 1e-4f);
  EXPECT_NEAR(a.history.back().val_loss, b.history.back().val_loss, 1e-5);
}

// 4 ranks on 2 hosts, placed alternately (--map-by node): the sweep's groups of 2 are still
// each within one host (every run's node holds its whole batch of 64 rows), and both groups
// claim runs from the counter that lives on the first host.
TEST_F(MultiHost, ASweepKeepsEachGroupWithinAHostAndClaimsAcrossThem) {
  const std::string dir = test::make_temp_dir("multihost-sweep");
  test::write_synthetic_mnist(dir + "/data", 1200, 200);
  const auto sweep = test::run_command(
      "timeout 300 " + script_ +
      " mpirun -n 4 --map-by node --oversubscribe -x OMPI_ALLOW_RUN_AS_ROOT"
      " -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM -x OMP_NUM_THREADS=1 " +
      test::aeflow_binary() + " sweep --data " + dir +
      "/data --encoder 784,32,8 --batch-size 64 --epochs 2 --validation 100 --test-limit 100"
      " --dims 2,3,4,5,6,7 --ranks-per-run 2 --out " +
      dir + "/sweep");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const std::vector<io::SweepRow> rows = io::read_sweep_table(dir + "/sweep/sweep.h5");
  ASSERT_EQ(rows.size(), 6u);
  int by_group[2] = {0, 0};
  for (const io::SweepRow& row : rows) {
    EXPECT_EQ(row.status, io::RunStatus::kDone) << row.name;
    ASSERT_TRUE(row.group == 0 || row.group == 1) << row.group;
    ++by_group[row.group];
    const std::string log = test::read_text(dir + "/sweep/" + row.run_dir + "/train.log");
    EXPECT_NE(log.find("64 rows a node"), std::string::npos) << log;
  }
  EXPECT_GT(by_group[0], 0) << sweep.output;
  EXPECT_GT(by_group[1], 0) << sweep.output;
}

}  // namespace
}  // namespace aeflow
