// `aeflow ingest`: an IDX images file (and its labels), raw or .gz, streamed into a chunked HDF5
// file (docs/hdf5-schema.md, "Ingested images") that `aeflow encode --data` reads a range of rows
// at a time, for data sets larger than memory. One process; a thin layer over io::ingest_idx.
#include <iostream>

#include "aeflow/base/error.hpp"
#include "aeflow/io/images_file.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

int ingest_command(const std::vector<std::string>& args) {
  po::options_description desc("aeflow ingest --images IDX --out FILE.h5 [options]");
  // clang-format off
  desc.add_options()
      ("help,h", "show this help")
      ("config", text(""), "job file (INI): any option below as 'name = value'")
      ("images", text(""), "IDX images file, raw or .gz")
      ("labels", text(""), "IDX labels file, raw or .gz (optional)")
      ("out", text(""), "the HDF5 file to write")
      ("chunk", text("4096"), "images per HDF5 chunk (and per read and write)")
      ("deflate", text("0"), "gzip level of the chunks, 0 (none: fastest to read) to 9")
      ("force", flag(),
       "overwrite an existing output file");
  // clang-format on
  const ParsedOptions parsed = parse_options(args, desc);
  if (parsed.help) {
    std::cout << desc << "\n";
    return 0;
  }
  const po::variables_map& v = parsed.values;
  io::IngestOptions options;
  options.images = get(v, "images");
  options.labels = get(v, "labels");
  options.out = get(v, "out");
  if (options.images.empty()) throw InputError("aeflow ingest: name the IDX file with --images");
  if (options.out.empty()) throw InputError("aeflow ingest: name the HDF5 file with --out");
  check_output_path(options.out, {{"images", options.images}, {"labels", options.labels}});
  options.chunk_rows = size_t(get_int(v, "chunk", 1));
  options.deflate = int(get_int(v, "deflate", 0));
  if (options.deflate > 9) throw InputError("--deflate " + get(v, "deflate") + ": must be 0 to 9");
  options.overwrite = get_bool(v, "force");
  options.config_ini = resolved_ini(v, desc);
  const io::IngestResult result = io::ingest_idx(options);
  std::cout << "ingested " << result.count << " images of " << result.rows << "x" << result.cols
            << (options.labels.empty() ? "" : " with labels") << " into " << options.out << " in "
            << result.seconds << " s\n";
  return 0;
}

}  // namespace aeflow::cli
