// The subcommands of the aeflow binary: each a thin function over train and io that takes its
// arguments (after the subcommand name) and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace aeflow::cli {

int train_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int inspect_command(const std::vector<std::string>& args);
int encode_command(const std::vector<std::string>& args);
int decode_command(const std::vector<std::string>& args);
int ingest_command(const std::vector<std::string>& args);
int eval_command(const std::vector<std::string>& args);

}  // namespace aeflow::cli
