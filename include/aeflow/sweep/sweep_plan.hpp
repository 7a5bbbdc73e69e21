// The runs of a sweep as plain data: each point of the grid is a whole `aeflow train`
// configuration with a readable name ("k=10,lr=0.003") and a run directory named after it and a
// hash of its configuration, so a re-run finds its runs again and a changed configuration is
// never mistaken for a finished one. What a name may hold is checked here, since it becomes a
// directory name.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aeflow/train/train_config.hpp"

namespace aeflow::sweep {

// The grid's keys and one point's values, "k" (the code width) first.
using Settings = std::vector<std::pair<std::string, std::string>>;

struct PlannedRun {
  std::string name;  // run_name(settings)
  Settings settings;
  int64_t k = 0;              // the code width
  train::TrainConfig config;  // config.out: the run directory; config.config_ini: its INI
  std::string config_hash;    // config_hash(config.config_ini)
  std::string directory;      // within the sweep directory: directory_name(name, config_hash)
  double cost = 0;            // expected work: parameters x images seen
};

// "k=10,lr=0.003".
std::string run_name(const Settings& settings);

// 16 hex digits (FNV-1a, 64 bits) of the lines of INI that define the run: every line but
// `out` (the run directory, named after the hash) and `threads` (a property of the job).
std::string config_hash(const std::string& ini);

// A name for NAME's run directory that cannot leave its parent: characters other than letters,
// digits and . , = + - _ become '_', it is cut to 80 bytes, and "-HASH" follows (so it is never
// "." or "..", and two names made alike by the replacement stay apart).
std::string directory_name(const std::string& name, const std::string& hash);

// The lines in which two configurations (INI texts) differ, "lr = 0.001 -> 0.003; ...".
std::string config_difference(const std::string& before, const std::string& after);

// The order in which to hand out RUNS: most expensive first (ties: as given), so the last runs
// to finish are short ones and no group waits long for the slowest.
std::vector<size_t> longest_first(const std::vector<PlannedRun>& runs);

}  // namespace aeflow::sweep
