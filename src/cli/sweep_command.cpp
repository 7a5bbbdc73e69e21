// `aeflow sweep`: the plan (sweep_job.hpp: every point of the grid checked before anything
// trains), then sweep::run_sweep over the world's ranks.
#include <iostream>

#include "aeflow/mpi/communicator.hpp"
#include "aeflow/sweep/sweep_runner.hpp"
#include "aeflow/train/stop_request.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "sweep_job.hpp"

namespace aeflow::cli {

int sweep_command(const std::vector<std::string>& args) {
  const ParsedOptions parsed = parse_options(args, sweep_command_options());
  const mpi::Communicator world = mpi::Communicator::world();
  if (parsed.help) {
    if (world.is_root())
      std::cout << "aeflow sweep --config JOB --dims 1,2,3 [--grid KEY=V1,V2 ...] --out DIR\n"
                << "  trains every point of the grid: any train option below, crossed\n\n"
                << train_options() << "\n"
                << sweep_options("") << "\n";
    return 0;
  }
  SweepJob job = plan_sweep(parsed.values);
  if (job.array_count) {
    if (world.is_root()) std::cout << job.runs.size() << std::endl;
    return 0;
  }
  // (a job array task's run takes every rank of its job)
  if (job.options.array_task >= 0) job.options.ranks_per_run = world.size();

  use_threads(job.runs.front().config.threads, world);
  std::ostream null_stream(nullptr);
  const sweep::SweepResult result =
      sweep::run_sweep(job.runs, job.options, world, world.is_root() ? std::cout : null_stream,
                       train::signal_stop_request());
  return result.exit_code;
}

}  // namespace aeflow::cli
