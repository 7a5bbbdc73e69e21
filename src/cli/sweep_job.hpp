// The plan of `aeflow sweep`: the grid (--dims, --grid KEY=V1,V2,..., or a job file's [sweep]
// section) crossed into whole `aeflow train` configurations, each checked as `aeflow train` would
// check it, before anything trains or touches the disk.
#pragma once

#include <string>
#include <vector>

#include "aeflow/sweep/sweep_runner.hpp"
#include "options.hpp"

namespace aeflow::cli {

// The sweep's own options, as flags (PREFIX "") or as the keys of a job file's [sweep] section
// (PREFIX "sweep."; a flag wins over the section).
po::options_description sweep_options(const std::string& prefix);

// Every option `aeflow sweep` reads: train's, the sweep's, and the [sweep] section's.
po::options_description sweep_command_options();

struct SweepJob {
  sweep::SweepOptions options;
  std::vector<sweep::PlannedRun> runs;  // in grid order, each run's out relative to options.out
  bool array_count = false;             // --array-count: print runs.size() and train nothing
};

// The most points a grid may have.
inline constexpr int kMaxGridPoints = 100000;

// Converts and validates VALUES (parsed against sweep_command_options()). Throws InputError
// naming the option, or the grid point and the option, on anything a run would refuse.
SweepJob plan_sweep(const po::variables_map& values);

}  // namespace aeflow::cli
