// `aeflow decode`: latent points (a dataset of an HDF5 file, or a grid or circle walk) through a
// checkpoint's decoder to images in one HDF5 file (docs/hdf5-schema.md, "Decoded"). One process;
// a thin layer over infer::run_decode.
#include <filesystem>
#include <iostream>

#include "aeflow/base/error.hpp"
#include "aeflow/infer/decode.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

int decode_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "aeflow decode --checkpoint FILE (--points FILE | --grid SPEC | --circle SPEC) [options]");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("config", text(""), "job file (INI): any option below as 'name = value'")
      ("checkpoint", text(""), "the model whose decoder to use")
      ("points", text(""), "an HDF5 file holding latent points, e.g. an encoded.h5")
      ("dataset", text("/test/latent"), "the points' dataset in --points, float [n, k]")
      ("grid", text(""), "a grid over code dims 0 and 1: x0:x1:nx,y0:y1:ny (or x0:x1:nx)")
      ("circle", text(""), "a circle around 0 in code dims 0 and 1: radius:n")
      ("fixed", text(""), "a walk's values of the other code dims, v,v,... (default: zeros)")
      ("out", text(""), "the decoded file (default: decoded.h5 in the checkpoint's run "
                        "directory when it is in RUN/checkpoints/, else ./decoded.h5)")
      ("threads", text("0"), kThreadsHelp)
      ("force", flag(),
       "overwrite an existing output file");
  // clang-format on
  const ParsedOptions parsed = parse_options(args, desc);
  if (parsed.help) {
    std::cout << desc << "\n";
    return 0;
  }
  const po::variables_map& v = parsed.values;
  infer::DecodeConfig config;
  config.checkpoint = get(v, "checkpoint");
  if (config.checkpoint.empty())
    throw InputError("aeflow decode: name the model with --checkpoint FILE");
  config.points = get(v, "points");
  config.dataset = get(v, "dataset");
  config.grid = get(v, "grid");
  config.circle = get(v, "circle");
  config.fixed = get(v, "fixed");
  config.out = get(v, "out");
  if (config.out.empty()) {
    const std::filesystem::path dir = std::filesystem::path(config.checkpoint).parent_path();
    config.out = dir.filename() == "checkpoints" ? (dir.parent_path() / "decoded.h5").string()
                                                 : "decoded.h5";
  }
  check_output_path(config.out, {{"checkpoint", config.checkpoint}, {"points", config.points}});
  config.force = get_bool(v, "force");
  use_threads(get_threads(v), mpi::Communicator::world());
  infer::run_decode(config, std::cout);
  return 0;
}

}  // namespace aeflow::cli
