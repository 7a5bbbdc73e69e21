// Communicator under mpiexec -n 1, 2 and 4: split makes groups that see only their own ranks,
// split_by_node the ranks of this node, copies share one MPI communicator that is freed when the
// last goes, and a non-blocking sum's requests belong to the PendingSums that started it.
#include "aeflow/mpi/communicator.hpp"

#include <gtest/gtest.h>
#include <mpi.h>

#include <numeric>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/mpi/pending_sums.hpp"

namespace aeflow::mpi {
namespace {

TEST(Communicator, SplitGroupsSeeOnlyTheirOwnRanks) {
  const Communicator world = Communicator::world();
  const int color = world.rank() % 2;
  // Ranked backwards inside each group.
  const Communicator group = world.split(color, world.size() - world.rank());
  int expected_size = 0, expected_rank = 0;
  for (int r = 0; r < world.size(); ++r)
    if (r % 2 == color) {
      ++expected_size;
      if (r > world.rank()) ++expected_rank;
    }
  EXPECT_EQ(group.size(), expected_size);
  EXPECT_EQ(group.rank(), expected_rank);
  // A sum over the group adds its members' world ranks only.
  double mine = world.rank(), theirs = 0;
  for (int r = color; r < world.size(); r += 2) theirs += r;
  EXPECT_EQ(group.allreduce_sum(mine), theirs);
  // A broadcast from the group's root reaches its members only.
  std::string text = group.is_root() ? "group " + std::to_string(color) : "";
  group.broadcast(text);
  EXPECT_EQ(text, "group " + std::to_string(color));
  // The world still sees everyone.
  EXPECT_EQ(world.allreduce_sum(1.0), double(world.size()));
  EXPECT_THROW(world.split(-1, 0), RunError);
}

TEST(Communicator, SplitByNodeHoldsTheRanksOfThisNode) {
  const Communicator world = Communicator::world();
  const Communicator node = world.split_by_node();
  // (ctest runs every rank on this one machine)
  EXPECT_EQ(node.size(), world.size());
  EXPECT_EQ(node.rank(), world.rank());
  EXPECT_EQ(node.allreduce_sum(1.0), double(world.size()));
}

// MPI calls an attribute's delete function when its communicator is freed: this counts them.
int g_freed = 0;
int count_free(MPI_Comm, int, void*, void*) {
  ++g_freed;
  return MPI_SUCCESS;
}

// A split communicator is freed exactly once, when its last copy goes, and not before: a copy
// outlives the one it was copied from and still works.
TEST(Communicator, CopiesShareOneCommunicatorFreedWithTheLast) {
  const Communicator world = Communicator::world();
  if (world.mpi_handle() < 0) GTEST_SKIP() << "MPI is not initialized";
  int keyval = MPI_KEYVAL_INVALID;
  ASSERT_EQ(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, count_free, &keyval, nullptr),
            MPI_SUCCESS);
  g_freed = 0;
  Communicator kept = Communicator::self();
  {
    const Communicator group = world.split(0, world.rank());
    MPI_Comm_set_attr(MPI_Comm_f2c(group.mpi_handle()), keyval, nullptr);
    kept = group;
  }
  EXPECT_EQ(g_freed, 0);  // the copy still holds it
  EXPECT_EQ(kept.size(), world.size());
  EXPECT_EQ(kept.allreduce_sum(1.0), double(world.size()));
  kept = Communicator::self();
  EXPECT_EQ(g_freed, 1);
  // Many made and dropped: each freed once.
  for (int round = 0; round < 100; ++round) {
    const Communicator group = world.split(world.rank() % 2, 0);
    MPI_Comm_set_attr(MPI_Comm_f2c(group.mpi_handle()), keyval, nullptr);
    const Communicator copy = group;
  }
  EXPECT_EQ(g_freed, 101);
  // World and self are MPI's: dropping copies of them frees nothing.
  { const Communicator copy = Communicator::world(); }
  EXPECT_EQ(g_freed, 101);
  MPI_Comm_free_keyval(&keyval);
}

TEST(Communicator, NonBlockingSumsBelongToTheirPendingSums) {
  const Communicator world = Communicator::world();
  const Communicator copy = world;  // (holds no requests of its own to duplicate)
  std::vector<float> a(1000, float(world.rank() + 1)), b(10, 1.0f);
  PendingSums first, second;
  world.start_allreduce_sum(a, first);
  copy.start_allreduce_sum(b, second);
  EXPECT_EQ(first.empty(), world.size() == 1);
  second.wait();
  first.progress();
  first.wait();
  EXPECT_TRUE(first.empty());
  EXPECT_TRUE(second.empty());
  const float ranks = float(world.size());
  EXPECT_EQ(a[999], ranks * (ranks + 1) / 2);
  EXPECT_EQ(b[0], ranks);
}

}  // namespace
}  // namespace aeflow::mpi
