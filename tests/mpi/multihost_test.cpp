// Training across two test hosts (network namespaces joined by veth links, OpenMPI over TCP)
// gives the model one rank gives, with one rank a host and with split's two (its only test
// across nodes); a sweep across them claims its runs over TCP (MPI one-sided)
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
  // Trains ARGS on one rank here and on RANKS ranks placed alternately on the two hosts, and
  // expects the same model up to the order of float sums (a shard's partial sums, then the
  // sums across the ranks). Returns the hosts' output.
  std::string expect_hosts_train_what_one_rank_trains(int ranks, const std::string& args) {
    const std::string dir = test::make_temp_dir("multihost");
    test::write_synthetic_mnist(dir + "/data", 1200, 200);
    const std::string train = " train --data " + dir + "/data" + args + " --force";
    const auto one = test::run_command(test::aeflow_binary() + train + " --out " + dir + "/one");
    EXPECT_EQ(one.exit_code, 0) << one.output;
    const auto hosts =
        test::run_command("timeout 300 " + script_ + " mpirun -n " + std::to_string(ranks) +
                          " --map-by node --oversubscribe -x OMPI_ALLOW_RUN_AS_ROOT"
                          " -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM -x OMP_NUM_THREADS=1 " +
                          test::aeflow_binary() + train + " --out " + dir + "/hosts");
    EXPECT_EQ(hosts.exit_code, 0) << hosts.output;
    if (one.exit_code != 0 || hosts.exit_code != 0) return hosts.output;
    EXPECT_NE(hosts.output.find("on " + std::to_string(ranks) + " rank(s)"), std::string::npos)
        << hosts.output;

    const auto a = io::read_checkpoint(dir + "/one/checkpoints/latest.h5");
    const auto b = io::read_checkpoint(dir + "/hosts/checkpoints/latest.h5");
    EXPECT_EQ(b.state.world_size, ranks);
    EXPECT_EQ(a.parameters.size(), b.parameters.size());
    float max_diff = 0;
    for (size_t i = 0; i < std::min(a.parameters.size(), b.parameters.size()); ++i) {
      EXPECT_EQ(a.parameters[i].values.size(), b.parameters[i].values.size());
      for (size_t k = 0; k < std::min(a.parameters[i].values.size(), b.parameters[i].values.size());
           ++k)
        max_diff =
            std::max(max_diff, std::fabs(a.parameters[i].values[k] - b.parameters[i].values[k]));
    }
    EXPECT_LT(max_diff, 1e-4f);
    EXPECT_NEAR(a.history.back().val_loss, b.history.back().val_loss, 1e-5);
    return hosts.output;
  }

  std::string script_;
  std::unique_ptr<test::TestHostsTurn> turn_;
};

TEST_F(MultiHost, TwoRanksOnTwoHostsTrainTheModelOneRankTrains) {
  const auto hosts = test::run_command(
      "timeout 120 " + script_ +
      " mpirun -n 2 --map-by node -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"
      " -x OMP_NUM_THREADS=1 hostname");
  ASSERT_EQ(hosts.exit_code, 0) << hosts.output;
  EXPECT_NE(hosts.output.find("aefh1"), std::string::npos) << hosts.output;
  EXPECT_NE(hosts.output.find("aefh2"), std::string::npos) << hosts.output;
  expect_hosts_train_what_one_rank_trains(
      2, " --encoder 784,32,8 --batch-size 64 --steps 30 --validation 100 --seed 5");
}

// --grad-sync split across nodes: the 2 ranks of each host split the layers over the host's
// rows, and the ranks owning the same slice on the two hosts sum it over TCP before updating.
// With tied weights, each host's owner of an encoder layer's rows adds its decoder's term
// before that sum.
TEST_F(MultiHost, SplitWithTiedWeightsAcrossTwoHostsTrainsTheModelOneRankTrains) {
  const std::string output = expect_hosts_train_what_one_rank_trains(
      4,
      " --encoder 784,32,8 --tied --grad-sync split --batch-size 64 --steps 30"
      " --validation 100 --seed 5");
  EXPECT_EQ(output.find("using --grad-sync"), std::string::npos) << output;
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
