// A counter that any rank of a communicator advances on its own, without the other ranks taking
// part (MPI one-sided: MPI_Fetch_and_op on a window held by rank 0), and a lock the ranks take one
// at a time through the same window. `aeflow sweep` hands out its runs with it: a group of ranks
// that finishes a run claims the next one at once, whatever the other groups are doing, and a
// group rewrites the sweep's table under the lock. Without MPI (a world of one) it is a plain
// counter.
//
// Rank 0 holds the window. With OpenMPI on one node its operations are atomics in shared memory
// (osc/sm); across nodes over TCP only osc/pt2pt can make such a window, and it answers a
// request only when rank 0 is inside MPI: a rank 0 that computes alone calls progress() now
// and then (the sweep: after every training step).
#pragma once

#include <cstdint>
#include <functional>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::mpi {

class SharedCounter {
 public:
  // Collective over COMM; the counter starts at 0.
  explicit SharedCounter(const Communicator& comm);
  // Collective (MPI_Win_free), except while an exception unwinds: the job is ending then, and
  // waiting for ranks that are not coming would hang it.
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  // Adds VALUE and returns the count before it: atomic across the ranks.
  int64_t fetch_add(int64_t value);
  // Runs WORK holding the counter's exclusive lock: no other rank runs its WORK meanwhile.
  void exclusively(const std::function<void()>& work);
  // Lets MPI answer other ranks' requests on this rank (a no-op where MPI does that itself).
  void progress() const;

 private:
  Communicator comm_;
  int window_ = -1;           // MPI_Win_c2f handle; -1 without MPI
  int64_t* value_ = nullptr;  // rank 0's counter and lock in the window (MPI's memory)
  int64_t local_ = 0;         // the counter without MPI
};

}  // namespace aeflow::mpi
