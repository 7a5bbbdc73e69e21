#include "aeflow/mpi/thread_plan.hpp"

#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "aeflow/base/error.hpp"
#include "mpi_check.hpp"

namespace aeflow::mpi {
namespace {

constexpr size_t kBitsPerWord = 64;

bool overlap(const CpuSet& a, const CpuSet& b) {
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] & b[i]) return true;
  return false;
}

// OMP_NUM_THREADS's first level ("4" or "4,2"), or nullopt when it is unset or not a positive
// number (OpenMP ignores such a value too).
std::optional<int> omp_num_threads(std::string& text) {
  const char* value = std::getenv("OMP_NUM_THREADS");
  if (!value) return std::nullopt;
  text = value;
  const char* end = value + std::strcspn(value, ",");
  int threads = 0;
  const auto [stop, status] = std::from_chars(value, end, threads);
  if (status != std::errc() || stop != end || threads < 1) return std::nullopt;
  return threads;
}

std::string count(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// The CPU sets of every rank of NODE, each padded to WORDS words.
std::vector<CpuSet> gather_sets(const CpuSet& mine, size_t words, MPI_Comm node) {
  int size = 1;
  MPI_Comm_size(node, &size);
  CpuSet padded = mine;
  padded.resize(words, 0);
  std::vector<uint64_t> all(words * size_t(size));
  check_mpi(MPI_Allgather(padded.data(), int(words), MPI_UINT64_T, all.data(), int(words),
                          MPI_UINT64_T, node),
            "MPI_Allgather");
  std::vector<CpuSet> sets;
  for (int r = 0; r < size; ++r)
    sets.emplace_back(all.begin() + ptrdiff_t(size_t(r) * words),
                      all.begin() + ptrdiff_t(size_t(r + 1) * words));
  return sets;
}

}  // namespace

CpuSet current_cpus() {
  // The kernel's mask may be wider than cpu_set_t's 1024 CPUs: grow until it fits.
  for (size_t cpus = CPU_SETSIZE; cpus <= (size_t(1) << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    const size_t bytes = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(bytes, set);
    const int status = sched_getaffinity(0, bytes, set);
    if (status == 0) {
      CpuSet words((cpus + kBitsPerWord - 1) / kBitsPerWord, 0);
      for (size_t cpu = 0; cpu < cpus; ++cpu)
        if (CPU_ISSET_S(cpu, bytes, set)) words[cpu / kBitsPerWord] |= uint64_t(1) << (cpu % 64);
      CPU_FREE(set);
      while (words.size() > 1 && words.back() == 0) words.pop_back();
      return words;
    }
    CPU_FREE(set);
    if (errno != EINVAL) break;
  }
  return CpuSet{1};  // (no mask to be had: count one CPU, the safe side)
}

int cpu_count(const CpuSet& cpus) {
  int n = 0;
  for (uint64_t word : cpus) n += std::popcount(word);
  return n;
}

int default_threads(const CpuSet& mine, const std::vector<CpuSet>& node) {
  int sharing = 0;
  for (const CpuSet& other : node) sharing += overlap(mine, other) ? 1 : 0;
  return std::max(1, cpu_count(mine) / std::max(1, sharing));
}

ThreadPlan plan_threads(const Communicator& comm, int requested) {
  const CpuSet mine = current_cpus();
  ThreadPlan plan;
  plan.own_cpus = cpu_count(mine);
  plan.ranks = comm.size();

  // Every rank of this job on this node, and the CPU sets they may run on.
  const bool several = comm.mpi_handle() >= 0 && comm.size() > 1;
  const Communicator node_comm = comm.split_by_node();
  const MPI_Comm node = several ? MPI_Comm_f2c(node_comm.mpi_handle()) : MPI_COMM_NULL;
  std::vector<CpuSet> node_sets = {mine};
  if (several) {
    const size_t words = size_t(comm.allreduce_max(double(mine.size())));
    node_sets = gather_sets(mine, words, node);
  }

  std::string omp_text;
  if (requested > 0) {
    plan.threads = requested;
    plan.source = "--threads " + std::to_string(requested);
  } else if (const auto from_env = omp_num_threads(omp_text)) {
    plan.threads = *from_env;
    plan.source = "OMP_NUM_THREADS=" + omp_text;
  } else {
    plan.threads = default_threads(mine, node_sets);
  }

  // The node's threads against the CPUs its ranks may run on together.
  std::vector<int> node_threads(node_sets.size(), plan.threads);
  if (several) {
    check_mpi(MPI_Allgather(&plan.threads, 1, MPI_INT, node_threads.data(), 1, MPI_INT, node),
              "MPI_Allgather");
  }
  CpuSet node_cpus;
  for (const CpuSet& set : node_sets) {
    node_cpus.resize(std::max(node_cpus.size(), set.size()), 0);
    for (size_t i = 0; i < set.size(); ++i) node_cpus[i] |= set[i];
  }
  plan.node_ranks = int(node_sets.size());
  plan.node_cpus = std::max(1, cpu_count(node_cpus));
  plan.sharing_ranks = 0;
  for (const CpuSet& set : node_sets) plan.sharing_ranks += overlap(mine, set) ? 1 : 0;
  plan.node_threads = 0;
  for (int t : node_threads) plan.node_threads += t;

  plan.min_threads = -int(comm.allreduce_max(-double(plan.threads)));
  plan.max_threads = int(comm.allreduce_max(double(plan.threads)));
  const double per_cpu = double(plan.node_threads) / double(plan.node_cpus);
  plan.worst_threads_per_cpu = comm.allreduce_max(per_cpu);
  plan.oversubscribed = comm.any(!plan.source.empty() && plan.node_threads > plan.node_cpus);
  return plan;
}

std::string ThreadPlan::describe() const {
  std::string why;
  if (!source.empty())
    why = source;
  else if (sharing_ranks > 1)
    why = count(sharing_ranks, "rank") + " share " + count(own_cpus, "CPU");
  else if (ranks > 1)
    why = "each rank has CPUs of its own (" + count(own_cpus, "CPU") + " on rank 0)";
  else
    why = "1 rank on " + count(own_cpus, "CPU");
  const std::string each = min_threads == max_threads
                               ? count(min_threads, "thread") + (ranks > 1 ? " each" : "")
                               : std::to_string(min_threads) + " to " +
                                     std::to_string(max_threads) + " threads per rank";
  return "threads: " + why + ": " + each;
}

std::string ThreadPlan::warning() const {
  if (!oversubscribed) return "";
  const int fits = std::max(1, node_cpus / std::max(1, node_ranks));
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.1f", worst_threads_per_cpu);
  const std::string numbers =
      node_threads > node_cpus
          ? count(node_ranks, "rank") + " on this node run " + count(node_threads, "thread") +
                " on " + count(node_cpus, "CPU")
          : "a node runs more threads than it has CPUs (up to " + std::string(ratio) + " per CPU)";
  return "warning: " + numbers + " (" + source +
         "): the threads fight over the cores and every step waits for the slowest; set "
         "--threads " +
         std::to_string(fits) +
         " (ranks per node x threads at most the CPUs), or leave --threads and OMP_NUM_THREADS "
         "unset for aeflow to choose";
}

}  // namespace aeflow::mpi
