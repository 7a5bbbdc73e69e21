// The training loop. One global batch per step: each rank forwards and backwards its shard,
// the flat gradient buffer is summed across ranks (each rank's loss gradient is already scaled
// by the GLOBAL element count, so the sum is the whole batch's gradient), and every rank takes
// the same optimizer step. Everything random is keyed by (seed, epoch or step, global example
// or row), so the trajectory does not depend on the number of ranks beyond float summation
// order, and a resumed run is bit-for-bit the uninterrupted one.
// The policies it applies live beside it: RunDirectory, resume_policy.hpp, StopRequest.
#include "aeflow/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <tuple>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/progress_line.hpp"
#include "aeflow/data/augmentation.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/data/sharder.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/eval/reconstruction_metrics.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/model/optimizer.hpp"
#include "aeflow/train/data_parallel_step.hpp"
#include "aeflow/train/resume_policy.hpp"
#include "aeflow/train/run_directory.hpp"
#include "aeflow/train/run_lock.hpp"
#include "aeflow/train/training_snapshots.hpp"

namespace aeflow::train {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format_duration(double seconds) {
  const long s = long(std::max(0.0, seconds) + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return text;
}

class Trainer {
 public:
  Trainer(const TrainConfig& config, const mpi::Communicator& comm, std::ostream& log,
          const StopRequest& stop, const SharedWork& shared)
      : config_(config),
        comm_(comm),
        log_(log),
        progress_(log, config.live_progress && comm.is_root()),
        stop_(stop),
        shared_(shared),
        loss_(config.loss),
        network_(config.spec, loss_.takes_logits()),
        optimizer_(config.optimizer, config.spec.parameter_count()),
        run_dir_(config.out) {
    network_.set_precision(config.precision);
  }

  TrainResult run();

 private:
  void load_data();
  void on_root(const std::function<void()>& work) const;
  void prepare_run_directory();
  void start_or_resume();
  bool train_step(const std::vector<uint32_t>& permutation);
  bool steps_reached() const { return config_.steps > 0 && state_.global_step >= config_.steps; }
  bool epochs_reached() const { return config_.steps <= 0 && state_.epoch >= config_.epochs; }
  std::optional<StopReason> reason_to_stop(bool stop_agreed) const;
  void end_of_epoch(double epoch_seconds, int64_t epoch_samples, bool partial);
  void check_replicas() const;
  void write_checkpoint(bool best);
  void restore(const io::CheckpointData& checkpoint, const std::string& path);
  void print(const std::string& line) const {
    progress_.clear();
    if (comm_.is_root()) log_ << line << std::endl;
  }
  void show_progress();

  const TrainConfig& config_;
  mpi::Communicator comm_;
  std::ostream& log_;
  mutable ProgressLine progress_;  // (cleared by print, which is const)
  const StopRequest& stop_;
  const SharedWork& shared_;
  model::Loss loss_;
  model::Network network_;
  model::Optimizer optimizer_;
  RunDirectory run_dir_;
  std::unique_ptr<RunLock> lock_;           // rank 0: one writer per run directory
  std::unique_ptr<DataParallelStep> step_;  // built once the parameters are set (collective)
  data::Dataset train_, validation_, test_;
  std::unique_ptr<data::Sharder> sharder_;
  io::LoopState state_;
  std::vector<io::HistoryRow> history_;
  io::Snapshots snapshots_;  // the training animation: fixed images, a frame per epoch
  int64_t total_steps_ = 0;
  LrSchedule lr_;
  double last_lr_ = 0;
  std::string last_checkpoint_;
  std::vector<float> input_, target_;
  // The throughput's clock: every step but the run's first, which builds the primitives and
  // maps the shared memory (a visible share of a short benchmark run).
  double step_seconds_sum_ = 0;
  int64_t steps_timed_ = 0;
  bool first_step_done_ = false;
  bool pruned_ = false;  // SharedWork::prune ended the run (agreed on every rank)
};

void Trainer::load_data() {
  data::Dataset loaded;
  if (!shared_.train_file) loaded = data::load_split(config_.data, data::Split::kTrain);
  const data::Dataset& all = shared_.train_file ? *shared_.train_file : loaded;
  if (all.width() != size_t(config_.spec.input_width()))
    throw InputError("--encoder starts with " + std::to_string(config_.spec.input_width()) +
                     " but the images in " + all.source + " have " + std::to_string(all.width()) +
                     " pixels (" + std::to_string(all.rows) + "x" + std::to_string(all.cols) +
                     "): start it with " + std::to_string(all.width()));
  data::check_augmentation(config_.augmentation, all.rows, all.cols);
  data::TrainingSplit split =
      data::split_training(all, size_t(config_.validation), size_t(config_.train_limit));
  validation_ = std::move(split.validation);
  train_ = std::move(split.train);
  snapshots_ = validation_.count > 0
                   ? choose_snapshot_images(validation_, "validation", 0)
                   : choose_snapshot_images(train_, "train", int64_t(validation_.count));
  test_ =
      shared_.test_file ? *shared_.test_file : data::load_split(config_.data, data::Split::kTest);
  if (test_.rows != all.rows || test_.cols != all.cols)
    throw InputError(test_.source + ": test images are " + std::to_string(test_.rows) + "x" +
                     std::to_string(test_.cols) + ", training images " + std::to_string(all.rows) +
                     "x" + std::to_string(all.cols));
  if (config_.test_limit > 0 && size_t(config_.test_limit) < test_.count)
    test_ = test_.slice(0, size_t(config_.test_limit));
}

// Runs WORK on rank 0 alone; bad input found there (an InputError) is thrown on every rank, so
// that the others do not wait in the next collective for a rank that left, and a process that
// runs many trainings (a sweep) can go on with its next one.
void Trainer::on_root(const std::function<void()>& work) const {
  std::string refusal;
  if (comm_.is_root()) {
    try {
      work();
    } catch (const InputError& error) {
      refusal = error.what();
    }
  }
  comm_.broadcast(refusal);
  if (!refusal.empty()) throw InputError(refusal);
}

void Trainer::prepare_run_directory() {
  on_root([&] {
    run_dir_.create();
    lock_ = std::make_unique<RunLock>(run_dir_.path());  // (held until the run ends)
    if (run_dir_.has_checkpoints() && config_.resume.empty()) {
      if (!config_.force)
        throw InputError(run_dir_.checkpoints().string() +
                         " already holds checkpoints: pass --resume auto to continue that run, "
                         "or --force to start over (it deletes them)");
      run_dir_.remove_checkpoints();
    }
    run_dir_.write_config(config_.config_ini);
  });
}

// CHECKPOINT passed check_resumable (on rank 0, from the same file).
void Trainer::restore(const io::CheckpointData& checkpoint, const std::string& path) {
  check_resumable(checkpoint, path, config_);  // (cheap; it keeps this rank from half a restore)
  check_intact(checkpoint, path, optimizer_);
  const std::vector<float> parameters = io::flat_parameters(checkpoint, path);
  std::copy(parameters.begin(), parameters.end(), network_.parameters().begin());
  for (const auto& state : optimizer_.state()) {
    auto found = std::find_if(checkpoint.optimizer_state.begin(), checkpoint.optimizer_state.end(),
                              [&](const io::NamedArray& a) { return a.name == state.name; });
    optimizer_.set_state(state.name, found->values);
  }
  optimizer_.set_steps(checkpoint.optimizer_step);
  state_ = checkpoint.state;
  // A finished run resumed with more --epochs or --steps goes on, the loop's limits decide; one
  // that stopped early stays stopped unless --patience (or the monitor) changed.
  state_.finished = checkpoint.state.finished && config_.monitor != Monitor::kNone &&
                    state_.bad_epochs >= config_.patience;
  history_ = checkpoint.history;
  // The frames so far, when they are of the images this run shows (a checkpoint from before
  // snapshots has none: the animation starts here).
  if (checkpoint.snapshots.index == snapshots_.index &&
      checkpoint.snapshots.split == snapshots_.split) {
    snapshots_.epoch = checkpoint.snapshots.epoch;
    snapshots_.frames = checkpoint.snapshots.frames;
  }
  if (state_.seed != config_.seed)
    print("note: the checkpoint's seed " + std::to_string(state_.seed) + " is kept (--seed " +
          std::to_string(config_.seed) + " ignored on resume)");
  if (state_.world_size != comm_.size())
    print("note: checkpoint written by " + std::to_string(state_.world_size) +
          " ranks, resuming on " + std::to_string(comm_.size()) +
          ": same data order and model, float sums in another order, so not bit-for-bit");
  print("resumed " + path + " at epoch " + std::to_string(state_.epoch) + ", step " +
        std::to_string(state_.global_step));
  if (state_.finished)
    print("note: this run stopped early (" + std::to_string(state_.bad_epochs) +
          " epochs without improvement); raise --patience to train on");
}

// Rank 0 alone looks in the run directory and reads the checkpoint; the others load the file it
// names. Ranks on other nodes may see another listing (node-local scratch, a stale NFS cache),
// and deciding once is what keeps every rank on one model and in the same collectives.
void Trainer::start_or_resume() {
  state_.seed = config_.seed;
  state_.world_size = comm_.size();
  state_.batch_size = config_.batch_size;
  state_.validation = config_.validation;
  state_.train_limit = config_.train_limit;
  state_.best_monitor = std::numeric_limits<double>::infinity();
  state_.best_val_loss = std::numeric_limits<double>::infinity();
  io::CheckpointData checkpoint;
  std::string chosen;
  on_root([&] { chosen = pick_checkpoint(config_, run_dir_, optimizer_, checkpoint, log_); });
  comm_.broadcast(chosen);
  if (chosen.empty()) {
    if (comm_.is_root()) network_.initialize(config_.seed);
    comm_.broadcast(network_.parameters());
    return;
  }
  std::string failure;
  if (!comm_.is_root()) {
    try {
      checkpoint = io::read_checkpoint(chosen);
    } catch (const InputError& error) {
      failure = error.what();
    }
  }
  if (comm_.any(!failure.empty()))
    throw RunError(!failure.empty()
                       ? failure +
                             " (rank 0 read it: is the run directory on storage every node "
                             "sees?)"
                       : "another rank could not read " + chosen);
  restore(checkpoint, chosen);
  state_.world_size = comm_.size();
  state_.batch_size = config_.batch_size;  // (the same: check_resumable; recorded in older files)
  state_.validation = config_.validation;
  state_.train_limit = config_.train_limit;
}

void Trainer::write_checkpoint(bool best) {
  step_->complete_optimizer_state();  // (collective; every rank comes here)
  if (!best) last_checkpoint_ = run_dir_.step_path(state_.global_step).string();
  if (comm_.is_root()) {
    const std::vector<model::Optimizer::State> optimizer_state = optimizer_.state();
    io::CheckpointView checkpoint{config_.config_ini,
                                  config_.spec,
                                  model::to_string(config_.loss),
                                  network_.parameters(),
                                  model::to_string(config_.optimizer.kind),
                                  {},
                                  optimizer_.steps(),
                                  state_,
                                  history_,
                                  &snapshots_};
    for (const auto& state : optimizer_state)
      checkpoint.optimizer_state.push_back({state.name, state.values});
    if (best) {
      io::write_checkpoint(run_dir_.best_path().string(), checkpoint);
    } else {
      const fs::path path = run_dir_.step_path(state_.global_step);
      io::write_checkpoint(path.string(), checkpoint);
      run_dir_.point_latest(path);
      run_dir_.retain(path, config_.keep_checkpoints);
    }
  }
  comm_.barrier();
}

// Replicas apply identical updates to identical buffers, so any difference is a bug (or a
// broken node): compare a hash of the parameter bits across ranks.
void Trainer::check_replicas() const {
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over 32-bit words
  for (float value : network_.parameters()) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    hash = (hash ^ bits) * 1099511628211ull;
  }
  if (!comm_.same_everywhere(hash))
    throw RunError("replicas diverged: parameters differ between ranks after step " +
                   std::to_string(state_.global_step) + " (--check-replicas)");
}

// One global batch. Returns whether some rank's stop request was agreed on in its collective.
bool Trainer::train_step(const std::vector<uint32_t>& permutation) {
  const auto start = Clock::now();
  if (state_.global_step == config_.fail_at_step &&
      (config_.fail_rank < 0 || comm_.rank() == config_.fail_rank))
    throw RunError("injected failure on rank " + std::to_string(comm_.rank()) + " at step " +
                   std::to_string(state_.global_step) + " (--fail-at-step)");
  const data::Shard shard = sharder_->shard(size_t(state_.step_in_epoch));
  const size_t width = train_.width();
  const size_t rows = shard.local_size, elements = rows * width;
  const uint32_t* indices = permutation.data() + shard.local_begin;
  if (config_.augmentation.enabled()) {
    data::fill_batch(train_, indices, rows, input_.data());
    data::apply_augmentation(input_.data(), target_.data(), train_.rows, train_.cols, indices, rows,
                             config_.augmentation, state_.seed, uint64_t(state_.epoch));
  } else {
    data::fill_batch(train_, indices, rows, target_.data());
  }
  const float* input = target_.data();
  if (config_.noise > 0) {
    std::copy_n(target_.data(), elements, input_.data());
    data::apply_masking_noise(input_.data(), width, indices, rows, config_.noise, state_.seed,
                              uint64_t(state_.epoch));
    input = input_.data();
  }
  const model::DropoutKey key{state_.seed, uint64_t(state_.global_step), shard.local_begin};
  last_lr_ = lr_.at(state_.global_step, total_steps_);
  const StepResult result = step_->run(input, target_.data(), int(rows), shard.global_size, key,
                                       float(last_lr_), stop_.requested());
  if (!std::isfinite(result.loss_sum))
    throw InputError("the training loss is " +
                     std::string(std::isnan(result.loss_sum) ? "NaN" : "infinite") + " at step " +
                     std::to_string(state_.global_step + 1) +
                     ": training diverged; lower --lr (or add warm-up: --lr-warmup-steps)");

  ++state_.global_step;
  if (shared_.after_step) shared_.after_step();
  if (config_.check_replicas > 0 && state_.global_step % config_.check_replicas == 0)
    check_replicas();
  ++state_.step_in_epoch;
  // The epoch's loss from its sums (for RMSE the root of the epoch's mean, not a mean of roots).
  state_.train_loss_total += result.loss_sum;
  state_.train_loss_images += int64_t(shard.global_size);
  if (first_step_done_) {
    step_seconds_sum_ += seconds_since(start);
    ++steps_timed_;
  }
  first_step_done_ = true;
  if (progress_.due()) show_progress();

  if (config_.eval_every > 0 && state_.global_step % config_.eval_every == 0 &&
      validation_.count > 0) {
    const eval::Evaluation val = eval::evaluate(network_, loss_, validation_, comm_);
    std::ostringstream line;
    line << "  step " << state_.global_step << "  val " << model::to_string(config_.loss) << " "
         << std::setprecision(5) << val.loss;
    if (config_.loss != model::LossKind::kRmse) line << "  val rmse " << val.rmse;
    print(line.str());
  }
  return result.stop;
}

// "epoch 3/10  step 120/430 (28%)  train bce 0.0812  61234 samples/s  ETA 0:01:12": where the
// epoch is, on a terminal (between the epoch lines).
void Trainer::show_progress() {
  const int64_t steps_per_epoch = int64_t(sharder_->steps_per_epoch());
  std::ostringstream text;
  text << "epoch " << state_.epoch + 1;
  if (config_.steps <= 0) text << "/" << config_.epochs;
  text << "  step " << state_.step_in_epoch << "/" << steps_per_epoch << " ("
       << 100 * state_.step_in_epoch / std::max<int64_t>(1, steps_per_epoch) << "%)";
  if (state_.train_loss_images > 0)
    text << "  train " << model::to_string(config_.loss) << " " << std::setprecision(5)
         << loss_.value(state_.train_loss_total,
                        double(state_.train_loss_images) * double(train_.width()));
  if (steps_timed_ > 0 && step_seconds_sum_ > 0) {
    const double per_step = step_seconds_sum_ / double(steps_timed_);
    text << std::fixed << std::setprecision(0) << "  " << double(config_.batch_size) / per_step
         << " samples/s  ETA "
         << format_duration(per_step *
                            double(std::max<int64_t>(0, total_steps_ - state_.global_step)));
  }
  progress_.show(text.str());
}

void Trainer::end_of_epoch(double epoch_seconds, int64_t epoch_samples, bool partial) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  io::HistoryRow row;
  row.epoch = state_.epoch + (partial ? 1 : 0);
  row.step = state_.global_step;
  row.train_loss = state_.train_loss_images
                       ? loss_.value(state_.train_loss_total,
                                     double(state_.train_loss_images) * double(train_.width()))
                       : nan;
  row.val_loss = row.val_rmse = nan;
  if (validation_.count > 0) {
    const eval::Evaluation val = eval::evaluate(network_, loss_, validation_, comm_);
    row.val_loss = val.loss;
    row.val_rmse = val.rmse;
  }
  row.learning_rate = last_lr_;
  row.seconds = epoch_seconds;
  add_snapshot_frame(snapshots_, network_, row.epoch);
  // Whether to write best.h5 (a collective) and whether to stop are decided from these: take
  // rank 0's, so that no rank can decide otherwise (MPI does not promise all-reduced doubles
  // equal to the last bit everywhere).
  double losses[3] = {row.train_loss, row.val_loss, row.val_rmse};
  comm_.broadcast(std::span<double>(losses));
  row.train_loss = losses[0], row.val_loss = losses[1], row.val_rmse = losses[2];
  history_.push_back(row);
  // A partial epoch (--steps ended it) keeps its running sums: a resume with more steps
  // continues the same epoch, and its row must then cover all of it.
  if (!partial) {
    state_.train_loss_total = 0;
    state_.train_loss_images = 0;
  }

  const std::string metric = model::to_string(config_.loss);
  std::ostringstream line;
  line << "epoch " << row.epoch;
  if (config_.steps <= 0) line << "/" << config_.epochs;
  line << "  step " << row.step << "  train " << metric << " " << std::setprecision(5)
       << row.train_loss;
  if (validation_.count > 0) {
    line << "  val " << metric << " " << row.val_loss;
    if (config_.loss != model::LossKind::kRmse) line << "  val rmse " << row.val_rmse;
  }
  const double rate = epoch_seconds > 0 ? double(epoch_samples) / epoch_seconds : 0;
  const double eta = steps_timed_
                         ? step_seconds_sum_ / double(steps_timed_) *
                               double(std::max<int64_t>(0, total_steps_ - state_.global_step))
                         : 0;
  line << "  lr " << std::scientific << std::setprecision(2) << last_lr_ << std::fixed
       << std::setprecision(0) << "  " << rate << " samples/s  ETA " << format_duration(eta);
  print(line.str());

  if (config_.monitor != Monitor::kNone && !partial) {  // (patience counts whole epochs)
    const double value = config_.monitor == Monitor::kValLoss ? row.val_loss : row.train_loss;
    if (value < state_.best_monitor - config_.min_delta) {
      state_.best_monitor = value;
      state_.bad_epochs = 0;
    } else if (++state_.bad_epochs >= config_.patience) {
      print(
          "early stopping: " + std::string(config_.monitor == Monitor::kValLoss ? "val" : "train") +
          " " + metric + " has not improved by " + std::to_string(config_.min_delta) + " for " +
          std::to_string(config_.patience) + " epochs");
      state_.finished = true;
    }
  }
  if (shared_.prune && !partial && validation_.count > 0 && !state_.finished &&
      comm_.any(comm_.is_root() && shared_.prune(row.epoch, row.val_loss))) {
    print("pruned after epoch " + std::to_string(row.epoch) + ": val " + metric + " " +
          std::to_string(row.val_loss) + " is not among the best at this rung");
    pruned_ = true;
  }
  // The best model by validation loss is kept beside the latest (after the early-stopping
  // state is updated, so that resuming from it continues this epoch's decision).
  if (validation_.count > 0 && row.val_loss < state_.best_val_loss) {
    state_.best_val_loss = row.val_loss;
    write_checkpoint(true);
  }
}

// The one place that decides whether the run ends here, and why. A run that reached its epochs
// or steps is done even if a stop was requested during its last step; a finished run that did
// not reach them stopped early (this epoch, or before a resume).
std::optional<StopReason> Trainer::reason_to_stop(bool stop_agreed) const {
  if (steps_reached() || epochs_reached()) return StopReason::kDone;
  if (state_.finished) return StopReason::kEarlyStopping;
  if (pruned_) return StopReason::kPruned;
  if (stop_agreed) return StopReason::kStopRequest;
  return std::nullopt;
}

TrainResult Trainer::run() {
  load_data();
  prepare_run_directory();
  start_or_resume();
  step_ = std::make_unique<DataParallelStep>(network_, loss_, optimizer_, comm_, config_.grad_sync,
                                             config_.bucket_mb, size_t(config_.batch_size));
  if (!step_->note().empty()) print("note: " + step_->note());
  sharder_ = std::make_unique<data::Sharder>(train_.count, size_t(config_.batch_size), state_.seed,
                                             comm_.rank(), comm_.size());
  const int64_t steps_per_epoch = int64_t(sharder_->steps_per_epoch());
  total_steps_ = config_.steps > 0 ? config_.steps : config_.epochs * steps_per_epoch;
  lr_ = config_.lr;
  if (config_.lr_decay_epochs > 0) lr_.decay_every = config_.lr_decay_epochs * steps_per_epoch;
  const size_t max_rows = size_t(config_.batch_size + comm_.size() - 1) / size_t(comm_.size());
  input_.assign(max_rows * train_.width(), 0.f);
  target_.assign(max_rows * train_.width(), 0.f);

  print("aeflow train: " + config_.spec.describe() +
        (config_.precision == model::Precision::kBf16 ? ", bf16 matmuls" : "") + ", loss " +
        model::to_string(config_.loss) + ", " + model::to_string(config_.optimizer.kind) + "; " +
        std::to_string(train_.count) + " training, " + std::to_string(validation_.count) +
        " validation, " + std::to_string(test_.count) + " test images; global batch " +
        std::to_string(config_.batch_size) + " on " + std::to_string(comm_.size()) + " rank(s)");

  TrainResult result;
  bool stop_agreed = false;  // some rank's stop request, agreed on in a step's collective
  for (;;) {
    if (const auto reason = reason_to_stop(stop_agreed)) {
      result.stop_reason = *reason;
      break;
    }
    const auto permutation = sharder_->permutation(uint64_t(state_.epoch));
    const auto epoch_start = Clock::now();
    const int64_t first_step = state_.step_in_epoch;
    while (state_.step_in_epoch < steps_per_epoch && !steps_reached() && !stop_agreed) {
      stop_agreed = train_step(permutation);
    }
    const bool epoch_done = state_.step_in_epoch >= steps_per_epoch;
    if (!epoch_done && !steps_reached()) continue;  // stopped mid-epoch: no epoch's end
    const int64_t samples =
        std::min<int64_t>(int64_t(train_.count), state_.step_in_epoch * config_.batch_size) -
        first_step * config_.batch_size;
    if (epoch_done) {
      ++state_.epoch;
      state_.step_in_epoch = 0;
    }
    end_of_epoch(seconds_since(epoch_start), samples, !epoch_done);
    if (steps_reached() || epochs_reached()) state_.finished = true;
    if (state_.finished || pruned_ ||
        state_.epoch % std::max<int64_t>(1, config_.checkpoint_every) == 0)
      write_checkpoint(false);
  }
  if (result.stop_reason == StopReason::kStopRequest) {
    write_checkpoint(false);
    const int received = stop_.signal();  // (0 here when the signal reached another rank)
    print("stopped by " +
          (received ? "signal " + std::to_string(received) : "a signal to another rank") +
          " after step " + std::to_string(state_.global_step) + "; checkpoint " + last_checkpoint_ +
          "; continue with --resume auto");
    result.exit_code = kExitPreempted;
  } else if (result.stop_reason == StopReason::kPruned) {
    print("checkpoint " + last_checkpoint_);
  } else {
    if (last_checkpoint_.empty()) write_checkpoint(false);  // (set alike on every rank)
    result.test = eval::evaluate(network_, loss_, test_, comm_);
    std::ostringstream line;
    line << std::setprecision(5) << "test " << model::to_string(config_.loss) << " "
         << result.test.loss;
    if (config_.loss != model::LossKind::kRmse) line << "\ntest rmse " << result.test.rmse;
    print(line.str());
    print("checkpoint " + last_checkpoint_);
    eval::MetricsOptions metrics_options;
    metrics_options.pca = shared_.pca;
    result.test_metrics = eval::write_reconstruction_metrics(
                              network_, test_, train_,
                              {(fs::path(config_.out) / "metrics.h5").string(), true,
                               config_.config_ini, last_checkpoint_, "test", history_, snapshots_},
                              comm_, log_, false, metrics_options)
                              .summary;
  }
  if (steps_timed_ > 0 && step_seconds_sum_ > 0) {
    result.samples_per_second =
        double(config_.batch_size) * double(steps_timed_) / step_seconds_sum_;
    result.reduce_fraction = comm_.allreduce_max(step_->times().reduce) / step_seconds_sum_;
    std::ostringstream line;
    line << std::fixed << std::setprecision(0) << "throughput " << result.samples_per_second
         << " samples/s over " << steps_timed_ << " steps on " << comm_.size()
         << " rank(s); gradient all-reduce " << std::setprecision(1)
         << 100.0 * result.reduce_fraction << "% of step time";
    print(line.str());
  }
  result.epochs = state_.epoch;
  result.steps = state_.global_step;
  result.checkpoint = last_checkpoint_;
  result.history = history_;
  return result;
}

}  // namespace

TrainResult run_training(const TrainConfig& config, const mpi::Communicator& comm,
                         std::ostream& log, const StopRequest& stop, const SharedWork& shared) {
  Trainer trainer(config, comm, log, stop, shared);
  return trainer.run();
}

}  // namespace aeflow::train
