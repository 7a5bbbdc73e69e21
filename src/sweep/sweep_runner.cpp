// The sweep's run loop (see sweep_runner.hpp). Who decides what: rank 0 of the world checks the
// sweep directory and reads the runs' records before anything trains, and broadcasts what to
// train; every rank reads the data and fits the PCA baselines together; then each group claims
// runs from the shared counter on its first rank, broadcasts the claim to its ranks, and trains.
// Only a group's first rank touches the run's files; it rewrites sweep.h5 under the counter's
// lock, so two groups ending runs at once do not lose each other's rows.
#include "aeflow/sweep/sweep_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <tuple>

#include "aeflow/base/error.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/pca.hpp"
#include "aeflow/mpi/shared_counter.hpp"
#include "aeflow/sweep/pruner.hpp"
#include "aeflow/train/run_lock.hpp"
#include "aeflow/train/trainer.hpp"

namespace aeflow::sweep {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRecordName = "sweep-run.h5";
constexpr const char* kTableName = "sweep.h5";
constexpr const char* kLogName = "train.log";

// The training and test images of one data directory, read once.
struct DataFiles {
  data::Dataset train, test;
};

// What the PCA baseline of a run is fitted on: its data and its training images.
using ReferenceKey = std::tuple<std::string, int64_t, int64_t>;  // data, validation, train limit
ReferenceKey reference_of(const train::TrainConfig& c) {
  return {c.data, c.validation, c.train_limit};
}

// Sends TEXT from rank 0 to every rank, where a non-empty one becomes an InputError.
void throw_if_any(std::string text, const mpi::Communicator& comm) {
  comm.broadcast(text);
  if (!text.empty()) throw InputError(text);
}

std::string fixed(double value, int digits) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

class Sweep {
 public:
  Sweep(const std::vector<PlannedRun>& runs, const SweepOptions& options,
        const mpi::Communicator& world, std::ostream& log, const train::StopRequest& stop)
      : runs_(runs), options_(options), world_(world), log_(log), stop_(stop), out_(options.out) {}

  SweepResult run();

 private:
  SweepResult run_array_task();
  SweepResult finish(bool print_table) const;  // on rank 0 the table; every rank the exit code
  fs::path run_path(const PlannedRun& run) const { return out_ / run.directory; }
  std::string check_directory();
  std::optional<io::SweepRow> record_of(const PlannedRun& run) const;
  io::SweepRow row_of(const PlannedRun& run) const;  // its record, else a pending row
  std::vector<size_t> runs_to_train() const;
  void read_data_and_fit_baselines(const std::vector<size_t>& todo);
  mpi::Communicator form_group(int& group_id) const;
  void train_runs(const std::vector<size_t>& todo);
  io::SweepRow train_one(const PlannedRun& planned, const mpi::Communicator& group, int group_id);
  std::vector<io::SweepRow> collect_rows() const;
  // sweep.h5 from every run's record; returns the rows written.
  std::vector<io::SweepRow> write_table() const {
    std::vector<io::SweepRow> rows = collect_rows();
    io::write_sweep_table((out_ / kTableName).string(), options_.config, rows);
    return rows;
  }

  const std::vector<PlannedRun>& runs_;
  const SweepOptions& options_;
  mpi::Communicator world_;
  std::ostream& log_;
  const train::StopRequest& stop_;
  fs::path out_;
  std::map<std::string, DataFiles> data_;        // by data directory
  std::map<ReferenceKey, eval::Pca> baselines_;  // every component
  std::unique_ptr<mpi::SharedCounter> counter_;  // the next run to claim; the table's lock
  std::unique_ptr<Pruner> pruner_;
  std::unique_ptr<train::RunLock> lock_;  // world rank 0: one sweep in the directory
};

// On rank 0: the sweep directory can be used, and no run of the plan was trained there before
// with another configuration (its name's directory with another hash); takes the directory's lock
// (not for a job array's task). Returns the refusal.
std::string Sweep::check_directory() {
  std::error_code error;
  if (fs::exists(out_) && !fs::is_directory(out_))
    return "--out " + out_.string() + " is a file, not a sweep directory";
  fs::create_directories(out_, error);
  if (error) return "--out " + out_.string() + ": cannot create it: " + error.message();
  // One sweep at a time in a directory (a job array's tasks share it: each run has its own lock)
  if (options_.array_task < 0) {
    try {
      lock_ = std::make_unique<train::RunLock>(out_);
    } catch (const InputError& refusal) {
      return refusal.what();
    }
  }
  std::set<std::string> planned;
  for (const PlannedRun& run : runs_) planned.insert(run.directory);
  std::vector<std::string> entries;  // directories of runs that are not in this plan
  for (const auto& entry : fs::directory_iterator(out_, error))
    if (entry.is_directory() && !planned.count(entry.path().filename().string()))
      entries.push_back(entry.path().filename().string());
  for (const PlannedRun& run : runs_) {
    if (fs::exists(run_path(run))) continue;
    const std::string prefix =
        run.directory.substr(0, run.directory.size() - run.config_hash.size());
    for (const std::string& entry : entries) {
      if (entry.size() != run.directory.size() || entry.compare(0, prefix.size(), prefix) != 0)
        continue;
      std::ifstream file(out_ / entry / "config.ini");
      const std::string before((std::istreambuf_iterator<char>(file)), {});
      const std::string difference = config_difference(before, run.config.config_ini);
      return "run " + run.name + " was trained in " + (out_ / entry).string() +
             " with another configuration (" + (difference.empty() ? "unreadable" : difference) +
             "): sweep into another --out, or delete that directory to train it anew";
    }
  }
  return "";
}

std::optional<io::SweepRow> Sweep::record_of(const PlannedRun& run) const {
  const fs::path path = run_path(run) / kRecordName;
  if (!fs::exists(path)) return std::nullopt;
  try {
    std::vector<io::SweepRow> rows = io::read_sweep_table(path.string());
    if (rows.size() == 1 && rows[0].config_hash == run.config_hash) return rows[0];
  } catch (const std::exception&) {
    // (a record that cannot be read is no record: the run resumes from its checkpoints)
  }
  return std::nullopt;
}

io::SweepRow Sweep::row_of(const PlannedRun& run) const {
  if (auto record = record_of(run)) return *record;
  io::SweepRow row;
  row.name = run.name;
  row.run_dir = run.directory;
  row.config = run.config.config_ini;
  row.config_hash = run.config_hash;
  row.settings = run.settings;
  row.k = run.k;
  row.ranks = options_.ranks_per_run;
  return row;
}

std::vector<io::SweepRow> Sweep::collect_rows() const {
  std::vector<io::SweepRow> rows;
  for (const PlannedRun& run : runs_) rows.push_back(row_of(run));
  std::stable_sort(rows.begin(), rows.end(), [](const io::SweepRow& a, const io::SweepRow& b) {
    return std::tie(a.k, a.name) < std::tie(b.k, b.name);
  });
  return rows;
}

// On rank 0, broadcast: the runs to train, longest first: not done, not pruned (if this sweep
// prunes), and not failed unless retry_failed.
std::vector<size_t> Sweep::runs_to_train() const {
  std::string list;
  if (world_.is_root()) {
    for (size_t index : longest_first(runs_)) {
      const std::optional<io::SweepRow> record = record_of(runs_[index]);
      const io::RunStatus status = record ? record->status : io::RunStatus::kPending;
      // (a pruned run goes on to its end when this sweep does not prune)
      if (status == io::RunStatus::kDone) continue;
      if (status == io::RunStatus::kPruned && options_.prune_first_rung > 0) continue;
      if (status == io::RunStatus::kFailed && !options_.retry_failed) continue;
      list += std::to_string(index) + " ";
    }
  }
  world_.broadcast(list);
  std::vector<size_t> todo;
  size_t at = 0;
  while (at < list.size()) {
    const size_t end = list.find(' ', at);
    todo.push_back(std::stoul(list.substr(at, end - at)));
    at = end + 1;
  }
  return todo;
}

// Every rank reads every data directory the runs use, and all ranks fit each run's PCA baseline
// together (every component, so one fit serves every code width).
void Sweep::read_data_and_fit_baselines(const std::vector<size_t>& todo) {
  for (size_t index : todo) {
    const train::TrainConfig& c = runs_[index].config;
    if (!data_.count(c.data))
      data_[c.data] = {data::load_split(c.data, data::Split::kTrain),
                       data::load_split(c.data, data::Split::kTest)};
    const ReferenceKey key = reference_of(c);
    if (baselines_.count(key)) continue;
    const data::Dataset images =
        data::split_training(data_[c.data].train, size_t(c.validation), size_t(c.train_limit))
            .train;
    baselines_[key] = eval::fit_pca(images, images.width(), world_);
  }
}

// Groups of ranks_per_run consecutive ranks in (node, rank on the node) order, so that a group
// lies within one node wherever the nodes' sizes allow (the node-shared --grad-sync modes then
// apply).
mpi::Communicator Sweep::form_group(int& group_id) const {
  const mpi::Communicator node = world_.split_by_node();
  double leader = world_.rank();  // the node's first rank names the node
  node.broadcast(std::span<double>(&leader, 1));
  std::vector<double> where(2 * size_t(world_.size()), 0.0);
  where[2 * size_t(world_.rank())] = leader;
  where[2 * size_t(world_.rank()) + 1] = node.rank();
  world_.allreduce_sum(std::span<double>(where));
  std::vector<int> order(size_t(world_.size()));
  for (size_t r = 0; r < order.size(); ++r) order[r] = int(r);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return std::make_pair(where[2 * size_t(a)], where[2 * size_t(a) + 1]) <
           std::make_pair(where[2 * size_t(b)], where[2 * size_t(b) + 1]);
  });
  const int position = int(std::find(order.begin(), order.end(), world_.rank()) - order.begin());
  group_id = position / options_.ranks_per_run;
  return world_.split(group_id, position % options_.ranks_per_run);
}

void Sweep::train_runs(const std::vector<size_t>& todo) {
  int group_id = 0;
  const mpi::Communicator group = form_group(group_id);
  for (;;) {
    if (group.any(stop_.requested())) break;
    std::string claim = group.is_root() ? std::to_string(counter_->fetch_add(1)) : "";
    group.broadcast(claim);
    const size_t next = std::stoul(claim);
    if (next >= todo.size()) break;
    train_one(runs_[todo[next]], group, group_id);
  }
}

io::SweepRow Sweep::train_one(const PlannedRun& planned, const mpi::Communicator& group,
                              int group_id) {
  const auto start = std::chrono::steady_clock::now();
  train::TrainConfig config = planned.config;
  config.out = run_path(planned).string();
  config.resume = "auto";
  io::SweepRow row = row_of(planned);
  row.attempts += 1;
  row.group = group_id;
  row.ranks = group.size();
  row.error.clear();

  std::ofstream run_log;
  std::ostream null_log(nullptr);
  if (group.is_root()) {
    fs::create_directories(config.out);
    run_log.open(fs::path(config.out) / kLogName, std::ios::app);
    std::cout << "sweep: group " << group_id << " starts " << planned.name << " (attempt "
              << row.attempts << ", " << group.size() << " rank(s))" << std::endl;
  }

  const DataFiles& files = data_.at(config.data);
  train::SharedWork shared{&files.train, &files.test, &baselines_.at(reference_of(config)), {}, {}};
  // Rank 0 holds the counter; a rank 0 training alone must still let MPI answer other groups'
  // claims (SharedCounter, across nodes).
  if (world_.is_root() && counter_) shared.after_step = [&] { counter_->progress(); };
  if (pruner_ && config.validation > 0) {
    const int64_t last_epoch = config.steps > 0 ? 0 : config.epochs;
    shared.prune = [&](int64_t epoch, double val_loss) {
      if (!pruner_->is_rung(epoch) || epoch >= last_epoch) return false;
      bool cut = false;
      counter_->exclusively([&] { cut = pruner_->cut(planned.name, planned.k, epoch, val_loss); });
      return cut;
    };
  }
  try {
    const train::TrainResult result = train::run_training(
        config, group, group.is_root() ? static_cast<std::ostream&>(run_log) : null_log, stop_,
        shared);
    row.status = result.exit_code == train::kExitPreempted          ? io::RunStatus::kInterrupted
                 : result.stop_reason == train::StopReason::kPruned ? io::RunStatus::kPruned
                                                                    : io::RunStatus::kDone;
    row.epochs = result.epochs;
    row.val_loss.clear();
    row.best_epoch = 0;
    double best = INFINITY;
    for (const io::HistoryRow& epoch : result.history) {
      row.val_loss.push_back(epoch.val_loss);
      if (epoch.val_loss < best) best = epoch.val_loss, row.best_epoch = epoch.epoch;
    }
    row.last_val_loss = row.val_loss.empty() ? io::SweepRow::kNaN : row.val_loss.back();
    if (row.status == io::RunStatus::kDone) {
      row.test_mse = result.test_metrics.mse;
      row.test_rmse = result.test_metrics.rmse;
      row.test_bce = result.test_metrics.bce;
      row.pca_rmse = result.test_metrics.pca_rmse;
      row.knn_accuracy = result.test_metrics.knn_accuracy;
    }
  } catch (const std::exception& error) {
    // Bad input is thrown on every rank of the group alike (the trainer shares what rank 0
    // alone finds; divergence is seen in all-reduced losses), and a group of one rank is alone:
    // the group goes on with its next run, and no other group notices. Anything else may have
    // reached only some ranks of a larger group, the others waiting in a collective for them:
    // only ending the job (main: MPI_Abort) is safe then, and a re-run resumes.
    if (group.size() > 1 && !dynamic_cast<const InputError*>(&error)) throw;
    row.status = io::RunStatus::kFailed;
    row.error = error.what();
    if (group.is_root()) run_log << "aeflow: error: " << row.error << std::endl;
  }
  row.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!group.is_root()) return row;
  io::write_sweep_table((run_path(planned) / kRecordName).string(), row.config, {row});
  if (counter_) counter_->exclusively([&] { write_table(); });
  std::cout << "sweep: group " << group_id << " ended " << planned.name << ": "
            << io::to_string(row.status) << ", " << row.epochs << " epochs"
            << (row.status == io::RunStatus::kDone ? ", test rmse " + fixed(row.test_rmse, 6) : "")
            << (row.error.empty() ? "" : ": " + row.error) << ", " << fixed(row.wall_seconds, 1)
            << " s" << std::endl;
  return row;
}

SweepResult Sweep::run() {
  if (options_.ranks_per_run < 1 || options_.ranks_per_run > world_.size() ||
      world_.size() % options_.ranks_per_run != 0)
    throw InputError("--ranks-per-run " + std::to_string(options_.ranks_per_run) +
                     " does not divide the job's " + std::to_string(world_.size()) +
                     " rank(s) into groups: use a divisor of " + std::to_string(world_.size()));
  throw_if_any(world_.is_root() ? check_directory() : "", world_);
  if (options_.summary_only) return finish(true);
  if (options_.array_task >= 0) return run_array_task();
  const std::vector<size_t> todo = runs_to_train();
  read_data_and_fit_baselines(todo);
  if (world_.is_root())
    log_ << "sweep: " << runs_.size() << " runs, " << todo.size() << " to train, on "
         << world_.size() / options_.ranks_per_run << " group(s) of " << options_.ranks_per_run
         << " rank(s); " << out_.string() << std::endl;
  counter_ = std::make_unique<mpi::SharedCounter>(world_);
  if (options_.prune_first_rung > 0)
    pruner_ =
        std::make_unique<Pruner>(out_ / "rungs.tsv", options_.prune_first_rung, options_.prune_eta);
  if (world_.is_root())
    counter_->exclusively([&] { write_table(); });  // (groups may be ending runs)
  train_runs(todo);
  world_.barrier();
  return finish(true);
}

SweepResult Sweep::finish(bool print_table) const {
  SweepResult result;
  std::string code = "0";
  if (world_.is_root()) {
    result.rows = write_table();  // (every group has ended: no lock needed)
    bool failed = false, unfinished = false;
    for (const io::SweepRow& row : result.rows) {
      failed |= row.status == io::RunStatus::kFailed;
      unfinished |=
          row.status == io::RunStatus::kInterrupted || row.status == io::RunStatus::kPending;
    }
    if (print_table)
      log_ << format_table(result.rows) << "wrote " << (out_ / kTableName).string() << std::endl;
    if (unfinished)
      log_ << "sweep: runs are left; run the same command again to go on" << std::endl;
    else if (failed)
      log_ << "sweep: some runs failed (their errors are in the table); --retry-failed trains "
              "them again"
           << std::endl;
    code = std::to_string(unfinished ? train::kExitPreempted : failed ? kExitRunsFailed : 0);
  }
  world_.broadcast(code);
  result.exit_code = std::stoi(code);
  return result;
}

// One run of the grid on every rank of the job, as one group; its record, not the table.
SweepResult Sweep::run_array_task() {
  const size_t index = size_t(options_.array_task);
  if (index >= runs_.size())
    throw InputError("--array-task " + std::to_string(index) + ": the sweep has " +
                     std::to_string(runs_.size()) + " runs, tasks 0 to " +
                     std::to_string(runs_.size() - 1) + " (--array-count)");
  const PlannedRun& run = runs_[index];
  const std::vector<size_t> todo = runs_to_train();
  const bool train = std::find(todo.begin(), todo.end(), index) != todo.end();
  io::SweepRow row = row_of(run);
  if (train) {
    read_data_and_fit_baselines({index});
    row = train_one(run, world_, int(index));
  } else if (world_.is_root()) {
    log_ << "sweep: task " << index << " (" << run.name << ") is " << io::to_string(row.status)
         << " already" << (row.status == io::RunStatus::kFailed ? " (--retry-failed)" : "")
         << std::endl;
  }
  std::string code = io::to_string(row.status);  // (rank 0's record decides)
  world_.broadcast(code);
  const io::RunStatus status = io::parse_run_status(code);
  SweepResult result;
  result.exit_code = status == io::RunStatus::kFailed        ? kExitRunsFailed
                     : status == io::RunStatus::kInterrupted ? train::kExitPreempted
                                                             : 0;
  return result;
}

}  // namespace

SweepResult run_sweep(const std::vector<PlannedRun>& runs, const SweepOptions& options,
                      const mpi::Communicator& world, std::ostream& log,
                      const train::StopRequest& stop) {
  Sweep sweep(runs, options, world, log, stop);
  return sweep.run();
}

std::string format_table(const std::vector<io::SweepRow>& rows) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%5s  %-24s %10s %10s %10s %7s %5s %6s %8s %5s  %s\n", "k",
                "settings", "test rmse", "test mse", "PCA rmse", "kNN", "best", "epochs", "wall s",
                "ranks", "status");
  out += line;
  for (const io::SweepRow& row : rows) {
    std::string settings;
    for (const auto& [key, value] : row.settings)
      if (key != "k") settings += (settings.empty() ? "" : ",") + key + "=" + value;
    std::snprintf(
        line, sizeof line, "%5lld  %-24s %10s %10s %10s %7s %5lld %6lld %8s %5lld  %s\n",
        static_cast<long long>(row.k), settings.empty() ? "-" : settings.c_str(),
        fixed(row.test_rmse, 6).c_str(), fixed(row.test_mse, 6).c_str(),
        fixed(row.pca_rmse, 6).c_str(),
        (std::isnan(row.knn_accuracy) ? std::string("-") : fixed(100 * row.knn_accuracy, 1) + "%")
            .c_str(),
        static_cast<long long>(row.best_epoch), static_cast<long long>(row.epochs),
        fixed(row.wall_seconds, 1).c_str(), static_cast<long long>(row.ranks),
        io::to_string(row.status).c_str());
    out += line;
  }
  return out;
}

}  // namespace aeflow::sweep
