// The plan of `aeflow sweep`: the grid's axes read and checked, crossed into whole train
// configurations, each checked by train_config as `aeflow train` checks its own.
#include "sweep_job.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <set>

#include "aeflow/base/error.hpp"

namespace aeflow::cli {

// Options of the sweep itself, as flags and, prefixed "sweep.", as keys of a job file's [sweep]
// section (a flag wins over the section).
po::options_description sweep_options(const std::string& prefix) {
  // (the names are copied: the temporaries live until the end of the statement)
  const auto name = [&](const char* option) { return prefix + option; };
  po::options_description desc(prefix.empty() ? "Sweep" : "Sweep (job file [sweep] section)");
  desc.add_options()(name("dims").c_str(), text(""),
                     "code widths to sweep, e.g. 1,2,3,5,10,16,32,64 (the last encoder width)")(
      name("grid").c_str(), po::value<std::vector<std::string>>(),
      "KEY=V1,V2,...: another train option to sweep, crossed with the rest (repeatable)")(
      name("ranks-per-run").c_str(), text("1"),
      "ranks that train each run together (divides the ranks)")(
      name("retry-failed").c_str(), flag(), "train runs that failed before again")(
      name("prune").c_str(), text("none"),
      "none, or successive-halving (asynchronous, within each k)")(
      name("rungs").c_str(), text("1"), "successive halving: epochs of the first rung")(
      name("eta").c_str(), text("3"), "successive halving: keep the best 1/eta at each rung")(
      name("array-count").c_str(), flag(), "print how many runs the grid has (job array tasks)")(
      name("array-task").c_str(), text("-1"),
      "train only run N (0 to count-1, grid order) on all the job's ranks: one job array task")(
      name("summary").c_str(), flag(),
      "train nothing: gather the runs' records into sweep.h5 and print the table");
  return desc;
}

po::options_description sweep_command_options() {
  po::options_description desc("aeflow sweep [options]");
  desc.add(train_options()).add(sweep_options("")).add(sweep_options("sweep."));
  return desc;
}

namespace {

// The grid's keys may be any train option but these (they name the job, not a run).
const std::set<std::string> kNotInGrid = {"help",  "config",  "out",       "resume",
                                          "force", "threads", "allreduce", "dims"};

struct Axis {
  std::string key;
  std::vector<std::string> values;
};

std::vector<std::string> split_values(const std::string& text, const std::string& what) {
  std::vector<std::string> values;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    const std::string value = text.substr(begin, end - begin);
    if (value.empty()) throw InputError(what + ": an empty value (values are V1,V2,...)");
    for (unsigned char c : value)
      if (c <= ' ' || c == 127 || c == '=')
        throw InputError(what + ": value '" + value +
                         "' holds a space, a control character or '=': not allowed in a value");
    if (std::find(values.begin(), values.end(), value) != values.end())
      throw InputError(what + ": '" + value + "' is given twice");
    values.push_back(value);
    begin = end + 1;
  }
  return values;
}

std::vector<Axis> grid_axes(const po::variables_map& v, const po::options_description& train) {
  std::vector<Axis> axes;
  const std::string dims = !v["dims"].defaulted() || get(v, "sweep.dims").empty()
                               ? get(v, "dims")
                               : get(v, "sweep.dims");
  if (!dims.empty()) {
    Axis k{"k", split_values(dims, "--dims " + dims)};
    for (const std::string& value : k.values) {
      int width = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), width);
      if (ec != std::errc() || end != value.data() + value.size() || width < 1)
        throw InputError("--dims " + dims + ": '" + value + "' is not a positive whole number");
    }
    axes.push_back(k);
  }
  const char* grid_name = v.count("grid") ? "grid" : "sweep.grid";
  if (v.count(grid_name))
    for (const std::string& item : v[grid_name].as<std::vector<std::string>>()) {
      const size_t equals = item.find('=');
      const std::string key = item.substr(0, equals);
      const std::string what = "--grid " + item;
      if (equals == std::string::npos || key.empty())
        throw InputError(what + ": expected KEY=V1,V2,... (a train option and its values)");
      if (kNotInGrid.count(key) || !train.find_nothrow(key, false))
        throw InputError(
            what + ": '" + key + "' is not a train option a sweep can vary" +
            (key == "dims" || key == "k" ? " (use --dims)" : " (see aeflow train --help)"));
      if (key == "encoder" && !dims.empty())
        throw InputError(what + ": --dims sets the encoder's last width; sweep one or the other");
      for (const Axis& axis : axes)
        if (axis.key == key) throw InputError(what + ": '" + key + "' is swept twice");
      axes.push_back({key, split_values(item.substr(equals + 1), what)});
    }
  if (axes.empty())
    throw InputError(
        "an empty grid: give --dims 1,2,3,... and/or --grid KEY=V1,V2,... (or a "
        "[sweep] section in the job file)");
  return axes;
}

// The encoder of BASE with its last width replaced by K.
std::string with_code_width(const std::string& base, const std::string& k) {
  const size_t comma = base.rfind(',');
  if (comma == std::string::npos)
    throw InputError("--encoder " + base + ": --dims needs at least an input and a code width");
  return base.substr(0, comma + 1) + k;
}

void set(po::variables_map& v, const std::string& key, const std::string& value) {
  v.at(key).value() = value;
}

// The sweep's job as INI: the base train configuration, then the [sweep] section.
std::string sweep_ini(const po::variables_map& v, const po::options_description& train,
                      const std::vector<Axis>& axes, const sweep::SweepOptions& options) {
  std::string ini = resolved_ini(v, train) + "\n[sweep]\n";
  for (const Axis& axis : axes) {
    std::string values;
    for (const std::string& value : axis.values) values += (values.empty() ? "" : ",") + value;
    ini += axis.key == "k" ? "dims = " + values + "\n" : "grid = " + axis.key + "=" + values + "\n";
  }
  ini += "ranks-per-run = " + std::to_string(options.ranks_per_run) + "\n";
  if (options.prune_first_rung > 0)
    ini += "prune = successive-halving\nrungs = " + std::to_string(options.prune_first_rung) +
           "\neta = " + std::to_string(options.prune_eta) + "\n";
  else
    ini += "prune = none\n";
  return ini;
}

}  // namespace

SweepJob plan_sweep(const po::variables_map& values) {
  po::variables_map v = values;
  const po::options_description train = train_options();
  // A flag wins over the job file's [sweep] section.
  auto sweep_value = [&](const char* name) {
    const std::string section = std::string("sweep.") + name;
    return v[name].defaulted() && !v[section].defaulted() ? section : std::string(name);
  };
  if (!v["resume"].defaulted() || get_bool(v, "force"))
    throw InputError(std::string(get_bool(v, "force") ? "--force" : "--resume") +
                     ": a sweep resumes its runs itself (run the same command again); to start "
                     "over, sweep into another --out or delete the old one");
  SweepJob job;
  sweep::SweepOptions& options = job.options;
  options.out = v["out"].defaulted() ? "runs/sweep" : get(v, "out");
  const std::vector<Axis> axes = grid_axes(v, train);
  options.ranks_per_run = int(get_int(v, sweep_value("ranks-per-run").c_str(), 1));
  options.retry_failed = get_bool(v, sweep_value("retry-failed").c_str());
  const std::string prune = get(v, sweep_value("prune").c_str());
  if (prune == "successive-halving") {
    options.prune_first_rung = get_int(v, sweep_value("rungs").c_str(), 1);
    options.prune_eta = get_int(v, sweep_value("eta").c_str(), 2);
  } else if (prune != "none") {
    throw InputError("--prune '" + prune + "': expected none or successive-halving");
  }
  options.config = sweep_ini(v, train, axes, options);

  // A grid is planned whole in memory, each point checked: a mistyped one of a billion points
  // would spend minutes and gigabytes before saying anything.
  double points = 1;
  for (const Axis& axis : axes) points *= double(axis.values.size());
  if (points > double(kMaxGridPoints))
    throw InputError("a grid of " + std::to_string(uint64_t(points)) + " points: at most " +
                     std::to_string(kMaxGridPoints) +
                     " (split it into several sweeps, or sweep fewer values)");

  // Every point of the grid, checked as `aeflow train` checks its options, before any training.
  std::vector<sweep::PlannedRun>& runs = job.runs;
  std::vector<size_t> at(axes.size(), 0);
  const std::string base_encoder = get(v, "encoder");
  for (;;) {
    sweep::PlannedRun run;
    po::variables_map point = v;
    for (size_t a = 0; a < axes.size(); ++a) {
      const std::string& value = axes[a].values[at[a]];
      run.settings.emplace_back(axes[a].key, value);
      if (axes[a].key == "k")
        set(point, "encoder", with_code_width(base_encoder, value));
      else
        set(point, axes[a].key, value);
    }
    run.name = sweep::run_name(run.settings);
    try {
      set(point, "out", "");
      run.config_hash = sweep::config_hash(resolved_ini(point, train));
      run.directory = sweep::directory_name(run.name, run.config_hash);
      set(point, "out", (std::filesystem::path(options.out) / run.directory).string());
      run.config = train_config(point);
    } catch (const InputError& error) {
      throw InputError("grid point " + run.name + ": " + error.what());
    }
    run.config.config_ini = resolved_ini(point, train);
    run.k = run.config.spec.code_width();
    // Parameters x images seen: the data set's size is not read yet, so an MNIST-sized one
    // stands in where --train-limit does not bound it (the cost only orders the runs).
    const train::TrainConfig& c = run.config;
    const double images =
        c.steps > 0 ? double(c.steps * c.batch_size)
                    : double(c.epochs) * double(c.train_limit > 0 ? c.train_limit : 60000);
    run.cost = double(c.spec.parameter_count()) * images;
    runs.push_back(std::move(run));
    size_t a = axes.size();
    while (a > 0 && ++at[a - 1] == axes[a - 1].values.size()) at[--a] = 0;
    if (a == 0) break;
  }
  job.array_count = get_bool(v, sweep_value("array-count").c_str());
  options.array_task = get_int(v, sweep_value("array-task").c_str(), -1);
  options.summary_only = get_bool(v, sweep_value("summary").c_str());
  if (options.array_task >= 0 && options.prune_first_rung > 0)
    throw InputError(
        "--prune judges runs against the others of one job: sweep in one "
        "allocation (without --array-task) to prune");
  if (options.prune_first_rung > 0)
    for (const sweep::PlannedRun& run : runs)
      if (run.config.validation == 0)
        throw InputError(
            "--prune successive-halving judges runs by their validation loss: give "
            "--validation N > 0");
  return job;
}

}  // namespace aeflow::cli
