// `aeflow eval`: the reconstruction metrics of a checkpoint on a split of a data set, written to
// metrics.h5 (docs/hdf5-schema.md, "Metrics") and summarized on stdout. A thin layer over
// eval::write_reconstruction_metrics, which `aeflow train` also calls at the end of a run;
// any number of MPI ranks share the work.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/eval/reconstruction_metrics.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace aeflow::cli {

namespace {

namespace fs = std::filesystem;

po::options_description eval_options() {
  po::options_description desc("aeflow eval --checkpoint FILE [options]");
  desc.add_options()("help,h", "show this help")(
      "config", text(""), "job file (INI): any option below as 'name = value'")(
      "checkpoint", text(""), "the checkpoint to evaluate (e.g. RUN/checkpoints/best.h5)")(
      "data", text("data/mnist"), "directory with MNIST-format IDX files (raw or .gz)")(
      "split", text("test"), "test, or train (the training images after the validation split)")(
      "out", text(""),
      "metrics file (default: metrics.h5 in the checkpoint's run directory "
      "when it is in RUN/checkpoints/, else ./metrics.h5)")("force", flag(),
                                                            "overwrite an existing metrics file")(
      "validation", text(""),
      "the first N training images are the validation split; the rest "
      "fit the PCA baseline and are the kNN reference (default: the "
      "checkpoint's run's value, else 5000)")(
      "train-limit", text(""),
      "use at most N training images after the validation split "
      "(0: all; default: the checkpoint's run's value)")("test-limit", text("0"),
                                                         "evaluate at most N test images (0: all)")(
      "knn-neighbours", text("5"), "k of the k-nearest-neighbour accuracy of the codes")(
      "knn-reference", text("60000"), "search the codes of the first N training images (0: all)")(
      "threads", text("0"), kThreadsHelp);
  return desc;
}

// The value of KEY in a resolved config (INI text, "key = value" lines), or "".
std::string ini_value(const std::string& ini, const std::string& key) {
  std::istringstream lines(ini);
  for (std::string line; std::getline(lines, line);) {
    const size_t equals = line.find('=');
    if (equals == std::string::npos || line.starts_with('#')) continue;
    auto trim = [](std::string s) {
      const size_t first = s.find_first_not_of(" \t\r");
      if (first == std::string::npos) return std::string();
      return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
    };
    if (trim(line.substr(0, equals)) == key) return trim(line.substr(equals + 1));
  }
  return "";
}

// An option left at its default ("") takes the checkpoint's run's value, else FALLBACK.
int64_t run_default(po::variables_map& values, const char* name, const std::string& ini,
                    const char* fallback) {
  if (get(values, name).empty()) {
    std::string value = ini_value(ini, name);
    if (value.empty()) value = fallback;
    values.at(name).value() = value;
  }
  return get_int(values, name, 0);
}

std::string default_out(const std::string& checkpoint) {
  const fs::path dir = fs::path(checkpoint).parent_path();
  if (dir.filename() == "checkpoints") return (dir.parent_path() / "metrics.h5").string();
  return "metrics.h5";
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
  const po::options_description desc = eval_options();
  ParsedOptions parsed = parse_options(args, desc);
  const mpi::Communicator comm = mpi::Communicator::world();
  if (parsed.help) {
    if (comm.is_root()) std::cout << desc << "\n";
    return 0;
  }
  po::variables_map& v = parsed.values;
  const std::string checkpoint = get(v, "checkpoint");
  if (checkpoint.empty()) throw InputError("aeflow eval: name the model with --checkpoint FILE");
  const std::string data = get(v, "data");
  const std::string split_name = get(v, "split");
  if (split_name != "test" && split_name != "train")
    throw InputError("--split '" + split_name + "': expected test or train");
  const bool force = get_bool(v, "force");
  const int64_t test_limit = get_int(v, "test-limit", 0);
  eval::MetricsOptions options;
  options.knn_neighbours = size_t(get_int(v, "knn-neighbours", 1));
  options.knn_reference = size_t(get_int(v, "knn-reference", 0));
  use_threads(get_threads(v), comm);

  eval::LoadedModel model = eval::load_model(checkpoint);
  const std::string& ini = model.checkpoint.config_ini;
  const size_t validation = size_t(run_default(v, "validation", ini, "5000"));
  const size_t train_limit = size_t(run_default(v, "train-limit", ini, "0"));
  const std::string out = get(v, "out").empty() ? default_out(checkpoint) : get(v, "out");
  check_output_path(out, {{"checkpoint", checkpoint}});

  const data::Dataset all = data::load_split(data, data::Split::kTrain);
  const model::ModelSpec& spec = model.checkpoint.spec;
  if (all.width() != size_t(spec.input_width()))
    throw InputError(checkpoint + ": the model reads images of " +
                     std::to_string(spec.input_width()) + " pixels (" + spec.describe() +
                     "), but the images in " + all.source + " have " + std::to_string(all.width()) +
                     " (" + std::to_string(all.rows) + "x" + std::to_string(all.cols) + ")");
  const data::Dataset reference = data::split_training(all, validation, train_limit).train;
  data::Dataset split;
  if (split_name == "test") {
    split = data::load_split(data, data::Split::kTest);
    if (test_limit > 0 && size_t(test_limit) < split.count)
      split = split.slice(0, size_t(test_limit));
  } else {
    split = reference;
    options.exclude_self = true;
  }
  if (comm.is_root())
    std::cout << "aeflow eval: " << checkpoint << " (" << spec.describe() << ") on " << split.count
              << " " << split_name << " images on " << comm.size() << " rank(s)" << std::endl;

  const eval::MetricsTarget target{out,
                                   force,
                                   model.checkpoint.config_ini,
                                   checkpoint,
                                   split_name,
                                   model.checkpoint.history,
                                   model.checkpoint.snapshots};
  std::ostream null_stream(nullptr);
  eval::write_reconstruction_metrics(*model.network, split, reference, target, comm,
                                     comm.is_root() ? std::cout : null_stream, true, options);
  return 0;
}

}  // namespace aeflow::cli
