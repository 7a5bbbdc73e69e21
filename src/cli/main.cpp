// aeflow: one binary, subcommands. main() owns MPI's lifetime and turns exceptions into exit
// codes: 2 for bad input or configuration, 1 for a failure while running. With several ranks a
// failing rank ends the whole job (MPI_Abort) with its message printed once, never a hang.
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "aeflow/base/denormals.hpp"
#include "aeflow/base/error.hpp"
#include "aeflow/train/stop_request.hpp"
#include "commands.hpp"

namespace {

const char* kUsage =
    "usage: aeflow COMMAND [options]   (aeflow COMMAND --help for its options)\n"
    "commands:\n"
    "  train     train an autoencoder (any number of MPI ranks)\n"
    "  sweep     train a grid of configurations (code widths, any train option) in one job\n"
    "  eval      reconstruction metrics of a checkpoint, to metrics.h5 (any number of ranks)\n"
    "  encode    encode data sets with a checkpoint's encoder, to HDF5 (any number of ranks)\n"
    "  decode    decode latent points (a file, a grid, a circle) to images, to HDF5\n"
    "  ingest    IDX images (raw or .gz) to a chunked HDF5 file, for data larger than memory\n"
    "  inspect   print what an aeflow HDF5 file holds\n";

int world_rank() {
  int initialized = 0, rank = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int initialized = 0, size = 1;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Prints the error and ends the process, and with several ranks the whole job.
[[noreturn]] void fail(const std::string& message, int code, bool same_on_every_rank) {
  const int rank = world_rank(), size = world_size();
  if (size > 1 && same_on_every_rank && rank != 0) {
    // Bad input fails every rank alike: let rank 0 print it and abort; speak up only if it
    // does not (the input was bad on this rank alone).
    std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  std::cerr << "aeflow: " << (size > 1 ? "rank " + std::to_string(rank) + ": " : "")
            << "error: " << message << std::endl;
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  // Out without MPI_Finalize or atexit handlers: after a failed write (a full disk) HDF5 still
  // holds the file it could not close, and its shutdown (in MPI_Finalize, or at exit) crashed on
  // it. The error is printed and the temporary files are gone (removed as the error unwound).
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);  // (and any C stream)
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  aeflow::flush_denormals();  // first: the threads started later inherit it
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "--version") {
    std::cout << "aeflow " << AEFLOW_VERSION << "\n";
    return 0;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  const bool trains = command == "train" || command == "sweep";
  const bool needs_mpi = trains || command == "eval" || command == "encode";
  if (trains) aeflow::train::install_stop_signal_handlers();  // before any thread
  if (command == "sweep") {
    // OpenMPI picks osc/rdma for the sweep's counter window even over TCP, where it cannot make
    // one (MPI_Win_allocate fails across nodes); sm (one node, and the node-shared windows) and
    // pt2pt (any network) can. A user's own OMPI_MCA_osc stands.
    setenv("OMPI_MCA_osc", "sm,pt2pt", 0);
  }
  if (needs_mpi) {
    // FUNNELED: OpenMP's threads and the signal thread never call MPI; only this one does.
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  }
  int code = 0;
  try {
    if (command == "train") {
      code = aeflow::cli::train_command(args);
    } else if (command == "sweep") {
      code = aeflow::cli::sweep_command(args);
    } else if (command == "eval") {
      code = aeflow::cli::eval_command(args);
    } else if (command == "encode") {
      code = aeflow::cli::encode_command(args);
    } else if (command == "decode") {
      code = aeflow::cli::decode_command(args);
    } else if (command == "ingest") {
      code = aeflow::cli::ingest_command(args);
    } else if (command == "inspect") {
      code = aeflow::cli::inspect_command(args);
    } else {
      std::cerr << "aeflow: unknown command '" << command << "'\n" << kUsage;
      code = 2;
    }
  } catch (const aeflow::InputError& error) {
    fail(error.what(), 2, true);
  } catch (const std::bad_alloc&) {
    fail(
        "out of memory: the model (--encoder), the batch or the data does not fit in this "
        "machine's memory",
        1, false);
  } catch (const std::exception& error) {
    fail(error.what(), 1, false);
  }
  if (command == "sweep" && code == 1) {
    // Some runs failed, and a failed write (a full disk) leaves HDF5 holding a file it could not
    // close, whose shutdown in MPI_Finalize crashed (as in fail() above): out without it. Every
    // rank gets here with the same code (the sweep broadcasts it).
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  if (needs_mpi) MPI_Finalize();
  return code;
}
