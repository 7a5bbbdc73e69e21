#include <iostream>

#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/trainer.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

int train_command(const std::vector<std::string>& args) {
  const po::options_description desc = train_options();
  const ParsedOptions parsed = parse_options(args, desc);
  const mpi::Communicator comm = mpi::Communicator::world();
  if (parsed.help) {
    if (comm.is_root()) std::cout << desc << "\n";
    return 0;
  }
  train::TrainConfig config = train_config(parsed.values);
  if (!get(parsed.values, "allreduce").empty() && comm.is_root())
    std::cerr << "aeflow: note: --allreduce is now --grad-sync (the old name still works)\n";
  if (config.steps > 0 && !parsed.values["epochs"].defaulted() && comm.is_root())
    std::cout << "note: --steps " << config.steps << " decides when the run ends; --epochs "
              << config.epochs << " is ignored" << std::endl;
  config.config_ini = resolved_ini(parsed.values, desc);
  config.live_progress = stdout_is_a_terminal();
  use_threads(config.threads, comm);
  std::ostream null_stream(nullptr);
  const train::TrainResult result =
      train::run_training(config, comm, comm.is_root() ? std::cout : null_stream);
  return result.exit_code;
}

}  // namespace aeflow::cli
