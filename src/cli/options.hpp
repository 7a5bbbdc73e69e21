// Command-line and job-file options of the subcommands. Every option is both a flag
// (--batch-size 64) and a job-file key (batch-size = 64); the command line wins over the file.
// Values are kept as text and converted here, so every refusal says which option and what
// would be right.
#pragma once

#include <boost/program_options.hpp>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/train_config.hpp"

namespace aeflow::cli {

namespace po = boost::program_options;

// Option values, all kept as text: one with a default, and a flag (--force alone means true).
po::typed_value<std::string>* text(const char* default_value);
po::typed_value<std::string>* flag();

// The parsed options of one subcommand.
struct ParsedOptions {
  po::variables_map values;
  bool help = false;
};

// Parses ARGS (after the subcommand name) against DESC, then the job file named by --config
// if any. Throws InputError on unknown options, missing values, an unreadable job file.
ParsedOptions parse_options(const std::vector<std::string>& args,
                            const po::options_description& desc,
                            const po::positional_options_description* positional = nullptr);

// An option's value (options are kept as text), converted; each throws InputError naming the
// option and what would be right.
const std::string& get(const po::variables_map& values, const char* name);
int64_t get_int(const po::variables_map& values, const char* name, int64_t min);
double get_double(const po::variables_map& values, const char* name);
double get_range(const po::variables_map& values, const char* name, double low, double high,
                 bool high_open);
bool get_bool(const po::variables_map& values, const char* name);
// --threads: 0 (OMP_NUM_THREADS, else aeflow's rule) up to kMaxThreads; OpenMP crashed asked
// for 100000.
constexpr int kMaxThreads = 1024;
int get_threads(const po::variables_map& values);
// The threads of this rank for REQUESTED (--threads; 0: OMP_NUM_THREADS, else the CPUs this rank
// may run on shared among the node's ranks on them), applied to OpenMP; rank 0 prints the choice
// and a warning when an explicit choice oversubscribes a node. Collective over COMM.
void use_threads(int requested, const mpi::Communicator& comm);

// Whether stdout is a terminal that a progress line may be rewritten on (not TERM=dumb, and not
// a rank started by an MPI launcher, whose stdout is a pseudo-terminal whatever the launcher's
// is): a file or a pipe (Slurm's output) gets only the lines that stay.
bool stdout_is_a_terminal();
inline constexpr const char* kThreadsHelp =
    "OpenMP threads per rank (0: OMP_NUM_THREADS if set, else the CPUs this rank may run on, "
    "shared among the ranks of its node that may run on them)";

// The options shared by subcommands that build a model, and those of `aeflow train`.
// Throws InputError, before any work, if OUT's directory does not exist or OUT is one of INPUTS
// (option name, path), the same file by any path: with --force it would replace that input.
void check_output_path(const std::string& out,
                       std::initializer_list<std::pair<const char*, std::string>> inputs);

po::options_description model_options();
po::options_description train_options();

// Converts and validates the values for `aeflow train`. Throws InputError.
train::TrainConfig train_config(const po::variables_map& values);

// The resolved configuration as INI text: every option of DESC with its final value.
std::string resolved_ini(const po::variables_map& values, const po::options_description& desc);

}  // namespace aeflow::cli
