// The requests of non-blocking sums that one owner started (Communicator::start_allreduce_sum):
// the overlapped gradient exchange keeps one, so the work in flight is its own and never a
// communicator's that others copy.
#pragma once

#include <vector>

namespace aeflow::mpi {

class PendingSums {
 public:
  PendingSums() = default;
  PendingSums(const PendingSums&) = delete;
  PendingSums& operator=(const PendingSums&) = delete;

  // Drives the started sums on without blocking (MPI moves data only inside MPI calls unless
  // it has a progress thread); forgets those that are done.
  void progress();
  // Blocks until every started sum is done.
  void wait();
  bool empty() const { return requests_.empty(); }

 private:
  friend class Communicator;
  std::vector<int> requests_;  // MPI_Request_c2f handles
};

}  // namespace aeflow::mpi
