// Threads per rank as aeflow reports them on its first line: under a launcher that does not bind
// (mpiexec --bind-to none, like srun with task/none) with OMP_NUM_THREADS unset, the ranks of a
// node share the CPUs they may run on instead of each taking all of them; an explicit choice that
// oversubscribes the node is warned about; one rank alone takes every CPU it may run on.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "aeflow/mpi/thread_plan.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::run_command;

std::string plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

class ThreadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("threads");
    data_ = test::write_synthetic_mnist(root_ + "/data", 300, 50);
    cpus_ = mpi::cpu_count(mpi::current_cpus());
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  // `aeflow train` for 2 steps, started by LAUNCH (empty: directly), OMP_NUM_THREADS unset.
  test::CommandResult train(const std::string& launch, const std::string& args) {
    return run_command("env -u OMP_NUM_THREADS " + launch + " " + test::aeflow_binary() +
                       " train --data " + data_ + " --encoder 784,16,4 --validation 50" +
                       " --test-limit 50 --steps 2 --batch-size 32 --out " + root_ + "/run" +
                       std::to_string(runs_++) + " " + args);
  }
  static std::string mpiexec(int ranks) {
    return "timeout 120 mpiexec --oversubscribe --bind-to none -n " + std::to_string(ranks);
  }

  std::string root_, data_;
  int cpus_ = 1, runs_ = 0;
};

TEST_F(ThreadsTest, UnboundRanksShareTheNodesCpus) {
  const auto r = train(mpiexec(2), "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int each = std::max(1, cpus_ / 2);
  EXPECT_CONTAINS(r.output, "threads: 2 ranks share " + plural(cpus_, "CPU") + ": " +
                                plural(each, "thread") + " each\n");
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
  // It is the first line.
  EXPECT_EQ(r.output.rfind("threads: ", 0), 0u) << r.output;
}

TEST_F(ThreadsTest, ExplicitThreadsThatOversubscribeAreWarnedAbout) {
  // Every rank asks for all the CPUs: 2 x CPUs threads on CPUs, on any machine.
  const auto r = train(mpiexec(2), "--threads " + std::to_string(cpus_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "threads: --threads " + std::to_string(cpus_) + ": " +
                                plural(cpus_, "thread") + " each\n");
  EXPECT_CONTAINS(r.output, "warning: 2 ranks on this node run " + plural(2 * cpus_, "thread") +
                                " on " + plural(cpus_, "CPU"));
  EXPECT_CONTAINS(r.output, "set --threads " + std::to_string(std::max(1, cpus_ / 2)) + " ");
  // Printed once (by rank 0).
  EXPECT_EQ(r.output.find("warning"), r.output.rfind("warning")) << r.output;
}

TEST_F(ThreadsTest, OmpNumThreadsStillDecides) {
  const auto r = train("OMP_NUM_THREADS=1 " + mpiexec(2) + " -x OMP_NUM_THREADS", "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "threads: OMP_NUM_THREADS=1: 1 thread each\n");
  EXPECT_EQ(r.output.find("warning"), std::string::npos) << r.output;
}

TEST_F(ThreadsTest, OneRankUsesEveryCpuItMayRunOn) {
  const auto all = train("", "");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_CONTAINS(all.output, "threads: 1 rank on " + plural(cpus_, "CPU") + ": " +
                                  plural(cpus_, "thread") + "\n");
  // Its affinity mask, not the machine's CPU count.
  if (run_command("taskset -c 0 true").exit_code != 0) GTEST_SKIP() << "no taskset here";
  const auto one = train("taskset -c 0", "");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_CONTAINS(one.output, "threads: 1 rank on 1 CPU: 1 thread\n");
}

}  // namespace
}  // namespace aeflow
