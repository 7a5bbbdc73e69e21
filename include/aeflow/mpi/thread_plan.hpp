// How many OpenMP threads each rank runs. By default a rank takes the CPUs it may run on (its
// affinity mask) divided among the ranks of the job on its node whose masks overlap it, so that a
// launcher that does not bind (srun with task/none, mpirun --bind-to none) never runs more
// spinning threads than there are cores. --threads N or OMP_NUM_THREADS still decide when set;
// then the plan says whether some node is oversubscribed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/mpi/communicator.hpp"

namespace aeflow::mpi {

// A set of CPU numbers, one bit each (as sched_getaffinity reports them).
using CpuSet = std::vector<uint64_t>;
// The CPUs this process may run on.
CpuSet current_cpus();
int cpu_count(const CpuSet& cpus);

// The default rule on one node: MINE's CPUs divided among the ranks in NODE (every rank of the
// node, this one included) whose sets share a CPU with MINE, at least 1.
int default_threads(const CpuSet& mine, const std::vector<CpuSet>& node);

struct ThreadPlan {
  int threads = 1;     // this rank's
  std::string source;  // "--threads", "OMP_NUM_THREADS" or "" (the default rule)
  int own_cpus = 1;    // the CPUs this rank may run on
  // Over every rank of the job:
  int ranks = 1, min_threads = 1, max_threads = 1;
  // On rank 0's node: its ranks, the CPUs they may run on together, the ranks whose CPUs
  // overlap rank 0's, and all their threads.
  int node_ranks = 1, node_cpus = 1, sharing_ranks = 1, node_threads = 1;
  // Some node runs more threads than its ranks may run on (explicit choices only: the default
  // never gives a rank more threads than its share).
  bool oversubscribed = false;
  double worst_threads_per_cpu = 1;

  // One line for the log: what was chosen and why ("2 ranks share 2 CPUs: 1 thread each").
  std::string describe() const;
  // The warning rank 0 prints when oversubscribed, with the numbers and what to set; else "".
  std::string warning() const;
};

// Collective over COMM. REQUESTED is --threads (0: not given); OMP_NUM_THREADS is read from the
// environment. Takes nothing from OpenMP itself: the caller applies plan.threads.
ThreadPlan plan_threads(const Communicator& comm, int requested);

}  // namespace aeflow::mpi
