#include <iostream>

#include "aeflow/base/error.hpp"
#include "aeflow/io/inspect.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

int inspect_command(const std::vector<std::string>& args) {
  po::options_description desc("aeflow inspect FILE...");
  desc.add_options()("help,h", "show this help")(
      "file", po::value<std::vector<std::string>>()->composing(), "aeflow HDF5 file(s)");
  po::positional_options_description positional;
  positional.add("file", -1);
  const ParsedOptions parsed = parse_options(args, desc, &positional);
  if (parsed.help) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!parsed.values.count("file")) throw InputError("aeflow inspect: name a file to inspect");
  for (const auto& path : parsed.values["file"].as<std::vector<std::string>>())
    io::inspect_file(path, std::cout);
  return 0;
}

}  // namespace aeflow::cli
