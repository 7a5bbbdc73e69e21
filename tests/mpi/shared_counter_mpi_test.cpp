// SharedCounter under mpiexec -n 1, 2 and 4: every rank advancing it on its own, with no other
// rank in a matching call, gets distinct values that together are exactly 0 .. total-1; and its
// lock lets one rank at a time through a read-modify-write of a file (no increment lost).
#include "aeflow/mpi/shared_counter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace aeflow::mpi {
namespace {

TEST(SharedCounter, ClaimsAreDistinctAndCoverEveryValue) {
  const Communicator world = Communicator::world();
  constexpr int kClaims = 500;
  std::vector<double> claimed(size_t(world.size()) * kClaims, 0.0);
  {
    SharedCounter counter(world);
    for (int i = 0; i < kClaims; ++i) {
      const int64_t value = counter.fetch_add(1);
      ASSERT_GE(value, 0);
      ASSERT_LT(value, int64_t(claimed.size()));
      claimed[size_t(value)] += 1;
    }
    world.barrier();
  }
  world.allreduce_sum(std::span<double>(claimed));
  for (size_t v = 0; v < claimed.size(); ++v) ASSERT_EQ(claimed[v], 1.0) << "value " << v;
}

TEST(SharedCounter, TheLockLetsOneRankAtATimeThrough) {
  const Communicator world = Communicator::world();
  std::string path = world.is_root() ? test::make_temp_dir("counter-lock") + "/count" : "";
  world.broadcast(path);
  if (world.is_root()) std::ofstream(path) << 0;
  world.barrier();
  constexpr int kRounds = 100;
  {
    SharedCounter counter(world);
    for (int i = 0; i < kRounds; ++i)
      counter.exclusively([&] {
        long value = 0;
        std::ifstream(path) >> value;
        std::ofstream(path) << value + 1;
      });
    world.barrier();
  }
  long total = 0;
  std::ifstream(path) >> total;
  EXPECT_EQ(total, long(kRounds) * world.size());
}

}  // namespace
}  // namespace aeflow::mpi
