// libFuzzer target: a job file (any bytes) through the options of `aeflow train` and of `aeflow
// sweep`: Boost's INI parser, every conversion and check of train_config, and the sweep's whole
// plan (grid axes, every point's configuration). Nothing is trained or written. A refusal is an
// InputError; a crash, a leak, undefined behaviour or a hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "input_file.hpp"
#include "options.hpp"
#include "sweep_job.hpp"

namespace {

// The options are built once: their descriptions do not depend on the input.
const aeflow::cli::po::options_description& train_description() {
  static const aeflow::cli::po::options_description description = aeflow::cli::train_options();
  return description;
}
const aeflow::cli::po::options_description& sweep_description() {
  static const aeflow::cli::po::options_description description =
      aeflow::cli::sweep_command_options();
  return description;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const aeflow::fuzz::InputFile file(data, size);
  const std::vector<std::string> args = {"--config", file.path()};
  try {
    const auto parsed = aeflow::cli::parse_options(args, train_description());
    (void)aeflow::cli::train_config(parsed.values);
  } catch (const aeflow::InputError&) {
  }
  try {
    const auto parsed = aeflow::cli::parse_options(args, sweep_description());
    const aeflow::cli::SweepJob job = aeflow::cli::plan_sweep(parsed.values);
    if (job.runs.empty()) __builtin_trap();  // a plan has at least one run
    for (const auto& run : job.runs)         // a run's directory never leaves the sweep's
      if (run.directory.empty() || run.directory.find('/') != std::string::npos ||
          run.directory == "." || run.directory == "..")
        __builtin_trap();
  } catch (const aeflow::InputError&) {
  }
  return 0;
}
