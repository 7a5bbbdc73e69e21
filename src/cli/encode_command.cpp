// `aeflow encode`: whole data sets through a checkpoint's encoder into one HDF5 file
// (docs/hdf5-schema.md, "Encoded"), on any number of MPI ranks. A thin layer over
// infer::run_encode.
#include <filesystem>
#include <iostream>

#include "aeflow/base/error.hpp"
#include "aeflow/infer/encode.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

namespace {

// "train,test" -> {"train", "test"}; "" -> {}.
std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

}  // namespace

int encode_command(const std::vector<std::string>& args) {
  po::options_description desc("aeflow encode --checkpoint FILE [options]");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("config", text(""), "job file (INI): any option below as 'name = value'")
      ("checkpoint", text(""), "the model whose encoder to use")
      ("data", text("data/mnist"), "a directory of MNIST-named IDX files (raw or .gz), one IDX "
                                   "images file, or an HDF5 file from aeflow ingest")
      ("splits", text(""), "a directory's splits to encode (default: train,test); for a file, "
                           "the name of its one split (default: data)")
      ("out", text(""), "the encoded file (default: encoded.h5 in the checkpoint's run "
                        "directory when it is in RUN/checkpoints/, else ./encoded.h5)")
      ("chunk", text("4096"), "rows per HDF5 chunk and per read (rounded up to a multiple of 256)")
      ("deflate", text("1"), "gzip level of the output chunks, 0 (none) to 9")
      ("threads", text("0"), kThreadsHelp)
      ("force", flag(),
       "overwrite an existing output file");
  // clang-format on
  const ParsedOptions parsed = parse_options(args, desc);
  const mpi::Communicator comm = mpi::Communicator::world();
  if (parsed.help) {
    if (comm.is_root()) std::cout << desc << "\n";
    return 0;
  }
  const po::variables_map& v = parsed.values;
  infer::EncodeConfig config;
  config.checkpoint = get(v, "checkpoint");
  if (config.checkpoint.empty())
    throw InputError("aeflow encode: name the model with --checkpoint FILE");
  config.data = get(v, "data");
  config.splits = comma_list(get(v, "splits"));
  config.out = get(v, "out");
  if (config.out.empty()) {
    // A run's encoded.h5 lives in its run directory.
    const std::filesystem::path dir = std::filesystem::path(config.checkpoint).parent_path();
    config.out = dir.filename() == "checkpoints" ? (dir.parent_path() / "encoded.h5").string()
                                                 : "encoded.h5";
  }
  check_output_path(config.out, {{"checkpoint", config.checkpoint}, {"data", config.data}});
  config.chunk_rows = size_t(get_int(v, "chunk", 1));
  config.deflate = int(get_int(v, "deflate", 0));
  config.force = get_bool(v, "force");
  config.live_progress = stdout_is_a_terminal();
  use_threads(get_threads(v), comm);
  std::ostream null_stream(nullptr);
  infer::run_encode(config, comm, comm.is_root() ? std::cout : null_stream);
  return 0;
}

}  // namespace aeflow::cli
