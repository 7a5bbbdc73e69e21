#include "options.hpp"

#include <omp.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/mpi/thread_plan.hpp"

namespace aeflow::cli {
po::typed_value<std::string>* text(const char* default_value) {
  return po::value<std::string>()->default_value(default_value);
}
po::typed_value<std::string>* flag() {
  return po::value<std::string>()->default_value("false")->implicit_value("true");
}

namespace {

// Boost.Program_options fills these placeholders into its error messages by replacing each until
// none is left, so a value that holds its own placeholder loops forever (`aeflow train
// --%canonical_option% 1` hung, found by fuzzing the job-file parser; later a job file's line
// that is no `key = value` and holds `%invalid_line%`): such text is refused before Boost sees
// it. The tokens are every key Boost 1.74 substitutes. WHERE names the argument or the job
// file's line.
void refuse_boost_placeholders(const std::string& text, const std::string& where) {
  for (const char* token : {"%canonical_option%", "%option%", "%value%", "%prefix%",
                            "%original_token%", "%invalid_line%"})
    if (text.find(token) != std::string::npos)
      throw InputError(where + " holds '" + token +
                       "', which the option parser cannot take (see --help for the options)");
}

}  // namespace

const std::string& get(const po::variables_map& values, const char* name) {
  return values[name].as<std::string>();
}

int64_t get_int(const po::variables_map& values, const char* name, int64_t min) {
  const std::string& s = get(values, name);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw InputError("--" + std::string(name) + " '" + s + "': expected a whole number");
  if (value < min)
    throw InputError("--" + std::string(name) + " " + s + ": must be at least " +
                     std::to_string(min));
  return value;
}

double get_double(const po::variables_map& values, const char* name) {
  const std::string& s = get(values, name);
  try {
    size_t used = 0;
    const double value = std::stod(s, &used);
    if (used == s.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  throw InputError("--" + std::string(name) + " '" + s + "': expected a number");
}

double get_range(const po::variables_map& values, const char* name, double low, double high,
                 bool high_open) {
  const double value = get_double(values, name);
  if (value < low || value > high || (high_open && value == high)) {
    std::ostringstream message;
    message << "--" << name << " " << get(values, name) << ": must be in [" << low << ", " << high
            << (high_open ? ")" : "]");
    throw InputError(message.str());
  }
  return value;
}

int get_threads(const po::variables_map& values) {
  const int64_t threads = get_int(values, "threads", 0);
  if (threads > kMaxThreads)
    throw InputError("--threads " + get(values, "threads") + ": at most " +
                     std::to_string(kMaxThreads) + " (more threads than cores only slows it down)");
  return int(threads);
}

namespace {

// Whether a launcher (mpirun, srun) started this process: read before main, since MPI_Init sets
// the same variables in a process started alone.
const bool kStartedByALauncher = [] {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"})
    if (std::getenv(name)) return true;
  return false;
}();

}  // namespace

bool stdout_is_a_terminal() {
  // A rank that mpirun started writes to a pseudo-terminal of mpirun's whatever mpirun's own
  // output is (a Slurm log file, say): under a launcher there is no telling, so no.
  if (kStartedByALauncher) return false;
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) && !(term && std::string(term) == "dumb");
}

void use_threads(int requested, const mpi::Communicator& comm) {
  const mpi::ThreadPlan plan = mpi::plan_threads(comm, requested);
  omp_set_num_threads(plan.threads);
  if (!comm.is_root()) return;
  std::cout << plan.describe() << std::endl;
  if (plan.oversubscribed) std::cerr << "aeflow: " << plan.warning() << std::endl;
}

bool get_bool(const po::variables_map& values, const char* name) {
  const std::string& s = get(values, name);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  throw InputError("--" + std::string(name) + " '" + s + "': expected true or false");
}

ParsedOptions parse_options(const std::vector<std::string>& args,
                            const po::options_description& desc,
                            const po::positional_options_description* positional) {
  ParsedOptions parsed;
  try {
    // Words that are no option's value are errors where a command takes none: `train --config
    // job.ini runs/mine` (a forgotten --out) must not train into the default directory.
    const po::positional_options_description none;
    for (const std::string& arg : args) refuse_boost_placeholders(arg, "argument '" + arg + "'");
    auto parser =
        po::command_line_parser(args).options(desc).positional(positional ? *positional : none);
    // Stored first, so the command line wins over the job file.
    po::store(parser.run(), parsed.values);
    if (parsed.values.count("help")) parsed.help = true;
    if (parsed.values.count("config") && !parsed.values["config"].as<std::string>().empty()) {
      const std::string path = parsed.values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file || std::filesystem::is_directory(path))
        throw InputError(path + ": cannot read the job file (--config)");
      std::ostringstream text;
      text << file.rdbuf();
      std::istringstream lines(text.str());
      int number = 0;
      for (std::string line; std::getline(lines, line);)
        refuse_boost_placeholders(line, path + ": line " + std::to_string(++number));
      std::istringstream job(text.str());
      try {
        po::store(po::parse_config_file(job, desc, false), parsed.values);
      } catch (const po::error& error) {
        throw InputError(path + ": " + error.what());
      }
    }
    po::notify(parsed.values);
  } catch (const po::too_many_positional_options_error&) {
    std::string words;
    for (size_t i = 0; i < args.size(); ++i)
      if (!args[i].starts_with("-") &&
          (i == 0 || !args[i - 1].starts_with("--") || args[i - 1].find('=') != std::string::npos))
        words += " '" + args[i] + "'";
    throw InputError("unexpected argument(s)" + words + ": options are --name value (see --help)");
  } catch (const po::error& error) {
    throw InputError(std::string(error.what()) + " (see --help)");
  }
  return parsed;
}

void check_output_path(const std::string& out,
                       std::initializer_list<std::pair<const char*, std::string>> inputs) {
  const std::filesystem::path directory = std::filesystem::path(out).parent_path();
  if (!directory.empty() && !std::filesystem::is_directory(directory))
    throw InputError("--out " + out + ": no such directory " + directory.string());
  for (const auto& [option, input] : inputs) {
    std::error_code error;  // (either missing: not the same file)
    if (!input.empty() && std::filesystem::equivalent(out, input, error))
      throw InputError("--out " + out + " is the --" + option + " file " + input +
                       ": writing it would replace the input; choose another --out");
  }
}

po::options_description model_options() {
  po::options_description desc("Model");
  desc.add_options()("encoder", text("784,512,128,10"), "encoder widths, input first, code last")(
      "decoder", text("mirror"),
      "decoder hidden widths, code side first (its output is as wide as the input): e.g. "
      "32,64; mirror (the encoder's, reversed) or none")(
      "activation", text("elu"), "hidden layers: sigmoid, relu, elu, tanh, silu, gelu, linear")(
      "code-activation", text("linear"),
      "the bottleneck layer: as --activation's choices ('' for the same as --activation)")(
      "output-activation", text("sigmoid"), "the reconstruction: sigmoid, linear, relu")(
      "tied", flag(), "decoder uses the transposed encoder weights")(
      "init", text("glorot_uniform"), "glorot_uniform or truncated_normal")(
      "init-stddev", text("0.1"), "truncated_normal: standard deviation")(
      "init-bias", text("0"), "initial value of every bias")(
      "dropout", text("0"), "dropout rate on hidden layers while training")(
      "loss", text("bce"), "mse, rmse, bce (from logits; needs a sigmoid output), l1");
  return desc;
}

po::options_description train_options() {
  po::options_description general("General");
  general.add_options()("help,h", "show this help")(
      "config", text(""), "job file (INI): any option below as 'name = value'")(
      "data", text("data/mnist"), "directory with MNIST-format IDX files (raw or .gz)")(
      "out", text("runs/default"), "run directory: checkpoints/, config.ini, ...")(
      "seed", text("1"), "seed of every random stream")("threads", text("0"), kThreadsHelp)(
      "precision", text("fp32"),
      "matmul precision: fp32, or bf16 (mixed: bf16 operands, f32 sums, parameters and "
      "optimizer; needs AVX-512, fast with AVX512_BF16)")(
      "resume", text(""), "continue from a checkpoint: PATH, or 'auto' for the newest in --out")(
      "force", flag(), "start over in a run directory that holds checkpoints (deletes them)");
  po::options_description training("Training");
  training.add_options()("optimizer", text("adam"), "sgd, momentum, rmsprop, adagrad, adam")(
      "lr", text("0.002"), "learning rate")("momentum", text("0.9"), "momentum coefficient")(
      "nesterov", flag(), "Nesterov momentum")("rho", text("0.9"),
                                               "rmsprop: decay of the mean square")(
      "beta1", text("0.9"), "adam: first-moment decay")("beta2", text("0.999"),
                                                        "adam: second-moment decay")(
      "epsilon", text("1e-7"), "rmsprop, adagrad, adam: denominator guard")(
      "initial-accumulator", text("0.1"), "adagrad: starting accumulator")(
      "weight-decay", text("0"),
      "decoupled weight decay (AdamW's, for any optimizer): each step p *= 1 - lr * this")(
      "lr-schedule", text("cosine"), "constant, cosine or step")(
      "lr-warmup-steps", text("0"), "linear warm-up over this many steps")(
      "lr-min", text("0"), "cosine: final learning rate")(
      "lr-decay-epochs", text("0"), "step: multiply by --lr-gamma every this many epochs")(
      "lr-gamma", text("0.1"), "step: decay factor")(
      "batch-size", text("128"), "global batch size, split across ranks")("epochs", text("10"),
                                                                          "epochs to train")(
      "steps", text("0"), "optimizer steps to train instead of epochs (0: use --epochs)")(
      "validation", text("5000"), "the first N training images are the validation split")(
      "train-limit", text("0"), "train on at most N images (0: all)")(
      "test-limit", text("0"), "evaluate on at most N test images (0: all)")(
      "noise", text("0"), "masking noise: fraction of input pixels set to zero")(
      "augment-rotate", text("0"),
      "augmentation: turn each training image by a random angle of at most this many degrees "
      "(0-180)")(
      "augment-scale", text("0"),
      "augmentation: scale each training image by a random factor within 1 +- this (0-0.5)")(
      "augment-shift", text("0"),
      "augmentation: move each training image by at most this many pixels along each axis "
      "(below half the image)")("eval-every", text("0"),
                                "also evaluate on the validation split every N steps")(
      "early-stopping", text("none"), "monitor: none, val_loss or train_loss")(
      "patience", text("10"), "early stopping: epochs without improvement")(
      "min-delta", text("0"), "early stopping: the improvement that counts")(
      "grad-sync", text("auto"),
      "how ranks combine their work on a step: split (the ranks of a node split every layer's "
      "outputs in shared memory); shared (node shared memory, a slice of the gradient sum per "
      "rank); auto (split or shared, whichever moves less between a node's cores); fused (one "
      "all-reduce after backward); overlap (MPI_Iallreduce buckets during backward)")(
      "allreduce", text(""), "the old name of --grad-sync, still accepted")(
      "bucket-mb", text("1"), "overlap: bucket size in MB")(
      "check-replicas", text("0"), "every N steps, check parameters are identical on all ranks")(
      "checkpoint-every", text("1"), "write a checkpoint every N epochs")(
      "keep-checkpoints", text("3"), "keep the last K step checkpoints")(
      "fail-at-step", text("-1"), "testing: make --fail-rank throw at this step")(
      "fail-rank", text("0"), "testing: the rank that fails (-1: every rank)");
  po::options_description all("aeflow train [options]");
  all.add(general).add(model_options()).add(training);
  return all;
}

namespace {

// --grad-sync, or its old name --allreduce (not both).
train::GradSync grad_sync(const po::variables_map& v) {
  const std::string& old_name = get(v, "allreduce");
  const bool renamed = !old_name.empty();
  if (renamed && !v["grad-sync"].defaulted())
    throw InputError("--allreduce is the old name of --grad-sync: give one of them");
  const std::string option = renamed ? "--allreduce" : "--grad-sync";
  const std::string& mode = renamed ? old_name : get(v, "grad-sync");
  if (mode == "fused") return train::GradSync::kFused;
  if (mode == "overlap") return train::GradSync::kOverlap;
  if (mode == "shared") return train::GradSync::kShared;
  if (mode == "split") return train::GradSync::kSplit;
  if (mode == "auto") return train::GradSync::kAuto;
  if (mode == "thread")
    throw InputError(option +
                     " thread is gone: in every case measured another mode was faster "
                     "(docs/performance.md); use overlap, or leave the default (auto)");
  throw InputError(option + " '" + mode + "': expected auto, split, shared, fused or overlap");
}

}  // namespace

train::TrainConfig train_config(const po::variables_map& v) {
  train::TrainConfig c;
  c.data = get(v, "data");
  c.out = get(v, "out");
  if (c.out.empty()) throw InputError("--out must name a run directory");
  if (std::filesystem::exists(c.out) && !std::filesystem::is_directory(c.out))
    throw InputError("--out " + c.out + " is a file, not a run directory: name a directory");
  c.seed = uint64_t(get_int(v, "seed", 0));
  c.threads = get_threads(v);
  c.precision = model::parse_precision(get(v, "precision"));
  c.resume = get(v, "resume");
  c.force = get_bool(v, "force");

  model::ModelSpec& spec = c.spec;
  spec.encoder = model::parse_widths(get(v, "encoder"));
  spec.decoder = model::parse_decoder(get(v, "decoder"));
  spec.hidden = model::parse_activation(get(v, "activation"));
  spec.code = get(v, "code-activation").empty()
                  ? spec.hidden
                  : model::parse_activation(get(v, "code-activation"));
  spec.output = model::parse_activation(get(v, "output-activation"));
  if (spec.output != model::Activation::kSigmoid && spec.output != model::Activation::kLinear &&
      spec.output != model::Activation::kRelu)
    throw InputError("--output-activation " + get(v, "output-activation") +
                     ": expected sigmoid, linear or relu (pixels are in [0, 1])");
  spec.tied = get_bool(v, "tied");
  spec.init = model::parse_init(get(v, "init"), float(get_double(v, "init-stddev")),
                                float(get_double(v, "init-bias")));
  spec.dropout = float(get_range(v, "dropout", 0, 1, true));
  spec.validate();
  c.loss = model::parse_loss(get(v, "loss"));
  if (c.loss == model::LossKind::kBce && spec.output != model::Activation::kSigmoid)
    throw InputError(
        "--loss bce is computed from logits through a sigmoid: use "
        "--output-activation sigmoid");

  model::OptimizerConfig& o = c.optimizer;
  o.kind = model::parse_optimizer(get(v, "optimizer"));
  o.momentum = float(get_range(v, "momentum", 0, 1, true));
  o.nesterov = get_bool(v, "nesterov");
  o.rho = float(get_range(v, "rho", 0, 1, true));
  o.beta1 = float(get_range(v, "beta1", 0, 1, true));
  o.beta2 = float(get_range(v, "beta2", 0, 1, true));
  o.epsilon = float(get_range(v, "epsilon", 0, 1, false));
  if (o.epsilon <= 0)  // (it guards a division: 0 lets a zero second moment make NaN)
    throw InputError("--epsilon " + get(v, "epsilon") + ": must be above 0");
  o.initial_accumulator = float(get_range(v, "initial-accumulator", 0, 1e6, false));
  o.weight_decay = float(get_range(v, "weight-decay", 0, 1, true));

  c.lr.base = get_double(v, "lr");
  if (!(c.lr.base > 0)) throw InputError("--lr " + get(v, "lr") + ": must be positive");
  c.lr.kind = train::parse_lr_schedule(get(v, "lr-schedule"));
  c.lr.warmup_steps = get_int(v, "lr-warmup-steps", 0);
  c.lr.min_lr = get_range(v, "lr-min", 0, c.lr.base, false);
  c.lr_decay_epochs = get_int(v, "lr-decay-epochs", 0);
  c.lr.gamma = get_range(v, "lr-gamma", 0, 1, false);
  if (c.lr.kind == train::LrScheduleKind::kStep && c.lr_decay_epochs == 0)
    throw InputError("--lr-schedule step needs --lr-decay-epochs N");

  c.batch_size = get_int(v, "batch-size", 1);
  c.epochs = get_int(v, "epochs", 1);
  c.steps = get_int(v, "steps", 0);
  c.validation = get_int(v, "validation", 0);
  c.train_limit = get_int(v, "train-limit", 0);
  c.test_limit = get_int(v, "test-limit", 0);
  c.noise = float(get_range(v, "noise", 0, 1, true));
  // (Checked against the images' size by the trainer: data::check_augmentation.)
  c.augmentation.rotate_degrees = float(get_double(v, "augment-rotate"));
  c.augmentation.scale = float(get_double(v, "augment-scale"));
  c.augmentation.shift = float(get_double(v, "augment-shift"));
  c.eval_every = get_int(v, "eval-every", 0);
  const std::string monitor = get(v, "early-stopping");
  if (monitor == "none")
    c.monitor = train::Monitor::kNone;
  else if (monitor == "val_loss")
    c.monitor = train::Monitor::kValLoss;
  else if (monitor == "train_loss")
    c.monitor = train::Monitor::kTrainLoss;
  else
    throw InputError("--early-stopping '" + monitor + "': expected none, val_loss or train_loss");
  if (c.monitor == train::Monitor::kValLoss && c.validation == 0)
    throw InputError("--early-stopping val_loss needs a validation split (--validation N > 0)");
  c.patience = get_int(v, "patience", 1);
  c.min_delta = get_range(v, "min-delta", 0, 1e9, false);
  c.grad_sync = grad_sync(v);
  c.bucket_mb = get_range(v, "bucket-mb", 1e-3, 1e4, false);
  c.check_replicas = get_int(v, "check-replicas", 0);
  c.checkpoint_every = get_int(v, "checkpoint-every", 1);
  c.keep_checkpoints = get_int(v, "keep-checkpoints", 1);
  c.fail_at_step = get_int(v, "fail-at-step", -1);
  c.fail_rank = int(get_int(v, "fail-rank", -1));
  return c;
}

std::string resolved_ini(const po::variables_map& values, const po::options_description& desc) {
  std::ostringstream out;
  out << "# aeflow " << AEFLOW_VERSION << ": the resolved configuration of this run\n";
  for (const auto& option : desc.options()) {
    const std::string& name = option->long_name();
    // What to run, not what was run: left out so the file can be used as a job file again.
    if (name == "help" || name == "config" || name == "resume" || name == "force" ||
        name.starts_with("fail-") || !values.count(name))
      continue;
    out << name << " = " << values[name].as<std::string>() << "\n";
  }
  return out.str();
}

}  // namespace aeflow::cli
