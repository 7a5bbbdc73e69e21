// `aeflow sweep`: many training runs in one MPI job. The world is split into groups of
// ranks_per_run ranks (within a node where the nodes allow), each group trains one run at a time
// data-parallel on its own communicator, exactly as `aeflow train` on that many ranks would, and a
// group that finishes claims the next pending run at once (an atomic counter: MPI one-sided, no
// coordinator). The data are read and the PCA baselines fitted once for all runs.
//
// The sweep directory holds a run directory per run (what `aeflow train` writes, plus its log,
// train.log, and its record, sweep-run.h5) and the table of all runs, sweep.h5, rewritten
// atomically whenever a run ends. A re-run skips what is done, resumes what was interrupted and
// retries what failed only when asked.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "aeflow/io/sweep_table.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/sweep/sweep_plan.hpp"
#include "aeflow/train/stop_request.hpp"

namespace aeflow::sweep {

struct SweepOptions {
  std::string out;               // the sweep directory
  std::string config;            // the sweep's job as INI text (sweep.h5 keeps it)
  int ranks_per_run = 1;         // ranks per group; divides the world's size
  bool retry_failed = false;     // train failed runs again (resuming their checkpoints)
  int64_t prune_first_rung = 0;  // successive halving: epochs of the first rung; 0: no pruning
  int64_t prune_eta = 3;         // keep the best 1/eta at each rung
  // A job array's task (Slurm's --array, any scheduler's): >= 0 trains only that run (its index
  // in grid order) on all the job's ranks and writes its record, not sweep.h5, which tasks that
  // run at once could not share; summary_only then gathers every record into sweep.h5.
  int64_t array_task = -1;
  bool summary_only = false;
};

// Exit codes of a sweep beyond 0: some run failed (the others ran on), and a stop request
// (a signal) interrupted it (train::kExitPreempted, 3).
constexpr int kExitRunsFailed = 1;

struct SweepResult {
  int exit_code = 0;
  std::vector<io::SweepRow> rows;  // every run of the plan, by code width then name
};

// Runs the sweep; collective over WORLD. RUNS: the plan, each run's config.out relative to
// OPTIONS.out (its directory name). Bad input (a run directory trained with another
// configuration, ranks_per_run not dividing the world) throws InputError on every rank before any
// training. LOG: rank 0's sweep lines and final table (each group's first rank prints its runs'
// lines to standard output); each run's training log goes to RUN/train.log.
SweepResult run_sweep(const std::vector<PlannedRun>& runs, const SweepOptions& options,
                      const mpi::Communicator& world, std::ostream& log,
                      const train::StopRequest& stop);

// The table printed at the end: one line per row.
std::string format_table(const std::vector<io::SweepRow>& rows);

}  // namespace aeflow::sweep
