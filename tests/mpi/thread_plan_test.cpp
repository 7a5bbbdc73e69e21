// The default thread rule on one node: a rank's CPUs shared among the ranks that may run on them.
#include "aeflow/mpi/thread_plan.hpp"

#include <gtest/gtest.h>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::mpi {
namespace {

CpuSet cpus(std::initializer_list<int> numbers) {
  CpuSet set;
  for (int n : numbers) {
    set.resize(std::max(set.size(), size_t(n / 64 + 1)), 0);
    set[size_t(n / 64)] |= uint64_t(1) << (n % 64);
  }
  return set;
}

TEST(ThreadPlan, UnboundRanksShareTheirCpus) {
  const CpuSet all = cpus({0, 1});
  EXPECT_EQ(default_threads(all, {all, all}), 1);  // srun without binding, 2 ranks on 2 CPUs
  const CpuSet sixteen = cpus({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  EXPECT_EQ(default_threads(sixteen, {sixteen, sixteen, sixteen, sixteen}), 4);
  EXPECT_EQ(default_threads(sixteen, {sixteen, sixteen, sixteen}), 5);  // (16 / 3, rounded down)
}

TEST(ThreadPlan, BoundRanksKeepTheirOwnCpus) {
  const CpuSet a = cpus({0, 1}), b = cpus({2, 3});
  EXPECT_EQ(default_threads(a, {a, b}), 2);
  EXPECT_EQ(default_threads(b, {a, b}), 2);
  // CPUs above the first word count too.
  const CpuSet high = cpus({64, 65, 130});
  EXPECT_EQ(cpu_count(high), 3);
  EXPECT_EQ(default_threads(high, {a, high}), 3);
}

TEST(ThreadPlan, MoreRanksThanCpusStillGetOneThread) {
  const CpuSet one = cpus({0});
  EXPECT_EQ(default_threads(one, {one, one, one}), 1);
}

TEST(ThreadPlan, PartlyOverlappingSetsCountEveryRankThatShares) {
  const CpuSet wide = cpus({0, 1, 2, 3}), narrow = cpus({3});
  EXPECT_EQ(default_threads(wide, {wide, narrow}), 2);
  EXPECT_EQ(default_threads(narrow, {wide, narrow}), 1);
}

TEST(ThreadPlan, ThisProcessHasAtLeastOneCpu) {
  EXPECT_GE(cpu_count(current_cpus()), 1);
}

// Without MPI a world of one: the default takes every CPU this process may run on, and an
// explicit choice above that is oversubscribed and says what to set.
TEST(ThreadPlan, OneRankTakesItsCpusAndWarnsAboveThem) {
  const int n = cpu_count(current_cpus());
  const char* saved = std::getenv("OMP_NUM_THREADS");
  const std::string keep = saved ? saved : "";
  unsetenv("OMP_NUM_THREADS");
  const ThreadPlan plan = plan_threads(Communicator::world(), 0);
  EXPECT_EQ(plan.threads, n);
  EXPECT_FALSE(plan.oversubscribed);
  EXPECT_EQ(plan.describe(), "threads: 1 rank on " + std::to_string(n) +
                                 (n == 1 ? " CPU: " : " CPUs: ") + std::to_string(n) +
                                 (n == 1 ? " thread" : " threads"));
  const ThreadPlan over = plan_threads(Communicator::world(), n + 1);
  EXPECT_EQ(over.threads, n + 1);
  EXPECT_TRUE(over.oversubscribed);
  EXPECT_NE(over.warning().find("--threads " + std::to_string(n) + " "), std::string::npos)
      << over.warning();
  setenv("OMP_NUM_THREADS", "3,1", 1);
  const ThreadPlan from_env = plan_threads(Communicator::world(), 0);
  EXPECT_EQ(from_env.threads, 3);
  EXPECT_EQ(from_env.describe(), "threads: OMP_NUM_THREADS=3,1: 3 threads");
  EXPECT_EQ(plan_threads(Communicator::world(), 2).threads,
            2);                          // --threads wins over the environment
  setenv("OMP_NUM_THREADS", "zero", 1);  // (ignored, as OpenMP ignores it)
  EXPECT_EQ(plan_threads(Communicator::world(), 0).threads, n);
  if (saved)
    setenv("OMP_NUM_THREADS", keep.c_str(), 1);
  else
    unsetenv("OMP_NUM_THREADS");
}

}  // namespace
}  // namespace aeflow::mpi
