// The aeflow binary end to end: exit code 2 and a message that says what would be right for bad
// options, job files and data; job-file values reach the run (config.ini) and the command line
// wins over them; help and inspect; outputs that would replace inputs; a full disk. (Stop
// signals: stop_signals_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "aeflow/io/checkpoint.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::run_command;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("cli");
    data_ = test::write_synthetic_mnist(root_ + "/data", 600, 100);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }

  // `aeflow train` with valid tiny defaults before ARGS (later options would clash, so ARGS
  // must not repeat these: data, encoder, validation, test-limit).
  test::CommandResult train(const std::string& args) const {
    return run_command(test::aeflow_binary() + " train --data " + data_ +
                       " --encoder 784,32,8 --validation 100 --test-limit 100 " + args);
  }
  std::string out(const std::string& name) const { return root_ + "/" + name; }

  std::string root_, data_;
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// --- refusals: exit code 2 and a helpful message --------------------------------------------

TEST_F(CliTest, UnknownOptionExits2) {
  const auto r = train("--out " + out("run") + " --bogus-option 3");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: unrecognised option '--bogus-option' (see --help)");
  EXPECT_FALSE(fs::exists(out("run") + "/checkpoints"));
}

TEST_F(CliTest, UnknownActivationExits2) {
  const auto r = train("--out " + out("run") + " --activation softplus");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output,  // names the choices
                  "error: unknown activation 'softplus': expected one of sigmoid, relu, elu, "
                  "tanh, silu, gelu, linear");
}

TEST_F(CliTest, ADecoderThatTiedWeightsCannotUseOrThatIsNotWidthsExits2) {
  const auto tied = train("--out " + out("run") + " --tied --decoder 16");
  EXPECT_EQ(tied.exit_code, 2) << tied.output;
  EXPECT_CONTAINS(tied.output,
                  "error: --tied uses each encoder weight transposed in the decoder, so the "
                  "decoder must mirror the encoder: --decoder 16 gives 8,16,784, the mirror is "
                  "--decoder 32 (or leave --decoder out)");
  const auto words = train("--out " + out("run") + " --decoder wide");
  EXPECT_EQ(words.exit_code, 2) << words.output;
  EXPECT_CONTAINS(words.output,
                  "error: --decoder 'wide': expected comma-separated positive widths");
  EXPECT_FALSE(fs::exists(out("run") + "/checkpoints"));
  // From a job file too, and `none` is a decoder without a hidden layer.
  write_text(out("job.ini"), "decoder = none\nepochs = 1\n");
  const auto none = train("--config " + out("job.ini") + " --out " + out("none"));
  EXPECT_EQ(none.exit_code, 0) << none.output;
  EXPECT_CONTAINS(none.output, "784-32-8-784 ");
  EXPECT_CONTAINS(test::read_text(out("none") + "/config.ini"), "\ndecoder = none\n");
}

// Every job in jobs/ is a valid configuration that trains (one step here, on the synthetic
// set, with a validation split it has room for), its `# Run:` line names the file itself, and it
// states every setting whose default is a recipe of its own (so no job changes with them).
TEST_F(CliTest, EveryJobFileTrainsAndItsRunLineNamesIt) {
  std::vector<fs::path> jobs;
  for (const auto& entry : fs::directory_iterator(test::source_dir() + "/jobs"))
    if (entry.path().extension() == ".ini") jobs.push_back(entry.path());
  ASSERT_GE(jobs.size(), 10u);
  for (const fs::path& job : jobs) {
    const std::string text = read_text(job.string());
    EXPECT_CONTAINS(text, "--config jobs/" + job.filename().string() + " ");
    for (const char* key : {"encoder", "activation", "code-activation", "output-activation", "loss",
                            "optimizer", "lr", "lr-schedule", "batch-size"})
      EXPECT_CONTAINS(text, "\n" + std::string(key) + " = ") << job;
    if (text.find("\n[sweep]\n") != std::string::npos) continue;  // (a sweep's: sweep_test)
    const auto r = run_command(test::aeflow_binary() + " train --config " + job.string() +
                               " --data " + data_ + " --out " + out(job.stem().string()) +
                               " --steps 1 --validation 100 --train-limit 200 --test-limit 50");
    // A bf16 job on a CPU without a bf16 matmul (no AVX-512) is refused, and must say why.
    if (r.exit_code != 0 && text.find("\nprecision = bf16\n") != std::string::npos &&
        r.output.find("oneDNN has no bf16 matmul for this CPU") != std::string::npos)
      continue;
    EXPECT_EQ(r.exit_code, 0) << job << "\n" << r.output;
    EXPECT_CONTAINS(r.output, "aeflow train: 784-");
  }
}

// With no model options: the recipe README names (ELU, a linear code, BCE, Adam 0.002 with
// cosine decay, batch 128).
TEST_F(CliTest, TheDefaultsAreTheMeasuredRecipe) {
  const auto r = run_command(test::aeflow_binary() + " train --data " + data_ + " --out " +
                             out("run") + " --validation 100 --test-limit 100 --epochs 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "aeflow train: 784-512-128-10-128-512-784 elu/linear/sigmoid, ");
  EXPECT_CONTAINS(r.output, ", loss bce, adam; ");
  EXPECT_CONTAINS(r.output, "global batch 128 on 1 rank(s)");
  const std::string config = read_text(out("run") + "/config.ini");
  for (const char* line : {"\nlr = 0.002\n", "\nlr-schedule = cosine\n", "\nlr-min = 0\n"})
    EXPECT_CONTAINS(config, line);
}

// On a terminal (a pseudo-terminal from util-linux's script) a progress line is rewritten in
// place between the epoch lines (and encode's split lines); into a pipe, as under Slurm, only
// the lines that stay.
TEST_F(CliTest, AProgressLineOnATerminalAndNoneInAPipe) {
  if (run_command("command -v script").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE("no script(1) (util-linux) to give the run a terminal");
  const std::string args = " --out " + out("run") + " --epochs 2 --force";
  const auto piped = train(args);
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output.find('\r'), std::string::npos) << piped.output;
  const std::string command = test::aeflow_binary() + " train --data " + data_ +
                              " --encoder 784,32,8 --validation 100 --test-limit 100" + args;
  // (a terminal of its own: not TERM=dumb, and not the environment of a launcher the test might
  // run under, which turns the line off)
  const std::string as_a_user =
      "env -u SLURM_PROCID -u PMI_SIZE -u PMIX_RANK -u OMPI_COMM_WORLD_SIZE TERM=xterm ";
  const auto terminal = run_command(as_a_user + "script -qec '" + command + "' /dev/null");
  ASSERT_EQ(terminal.exit_code, 0) << terminal.output;
  EXPECT_CONTAINS(terminal.output, "\repoch 1/2  step 1/4 (25%)  train bce ");
  // The epoch's own line replaces the progress line (cleared first), and stays.
  EXPECT_CONTAINS(terminal.output, "\repoch 1/2  step 4  train bce ");
  // encode too, a split at a time.
  const std::string encode = test::aeflow_binary() + " encode --checkpoint " + out("run") +
                             "/checkpoints/latest.h5 --data " + data_ + " --chunk 256 --out " +
                             out("codes.h5");
  const auto encoded = run_command(as_a_user + "script -qec '" + encode + "' /dev/null");
  ASSERT_EQ(encoded.exit_code, 0) << encoded.output;
  EXPECT_CONTAINS(encoded.output, "\rencoding train: 33% of 600 images");
  const auto encoded_piped = run_command(encode + " --force");
  ASSERT_EQ(encoded_piped.exit_code, 0) << encoded_piped.output;
  EXPECT_EQ(encoded_piped.output.find('\r'), std::string::npos) << encoded_piped.output;
}

TEST_F(CliTest, UnknownPrecisionExits2) {
  const auto r = train("--out " + out("run") + " --precision fp16");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: unknown precision 'fp16': expected fp32 or bf16");
}

// Linear layers, SGD at a learning rate of 1000: the loss overflows within a few steps. The run
// stops there with exit 2 and says what to change, instead of training on NaN.
TEST_F(CliTest, DivergingTrainingStopsWithAClearMessage) {
  const auto r = train("--out " + out("run") +
                       " --activation linear --code-activation linear --output-activation linear"
                       " --loss mse --optimizer sgd --lr 1000 --epochs 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "diverged");
  EXPECT_CONTAINS(r.output, "--lr");
}

// After good epochs, a run that diverges (resumed at a learning rate 100000x higher) stops with
// exit 2 and writes nothing more: the last good checkpoint stays the newest and reads whole.
TEST_F(CliTest, ADivergingResumeLeavesTheLastGoodCheckpointNewest) {
  const std::string run = out("run");
  const std::string model =
      " --activation linear --code-activation linear --output-activation linear --loss mse"
      " --optimizer sgd";
  ASSERT_EQ(train("--out " + run + model + " --lr 0.01 --epochs 1").exit_code, 0);
  const io::CheckpointData good = io::read_checkpoint(run + "/checkpoints/latest.h5");
  const auto r = train("--out " + run + model + " --lr 1000 --epochs 5 --resume auto");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "training diverged; lower --lr");
  const io::CheckpointData latest = io::read_checkpoint(run + "/checkpoints/latest.h5");
  EXPECT_EQ(latest.state.global_step, good.state.global_step);
  EXPECT_EQ(latest.parameters.front().values, good.parameters.front().values);
}

// --out that names a file: exit 2 naming the option, the file untouched.
TEST_F(CliTest, AnOutThatIsAFileExits2) {
  const std::string file = out("a-file");
  test::write_file(file, {'x'});
  const auto r = train("--out " + file);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: --out " + file + " is a file, not a run directory");
  EXPECT_EQ(test::read_file(file), std::vector<uint8_t>{'x'});
}

// --steps and --epochs together: --steps decides, and the run says so.
TEST_F(CliTest, StepsWinOverEpochsAndTheRunSaysSo) {
  const auto r = train("--out " + out("run") + " --epochs 7 --steps 3");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "note: --steps 3 decides when the run ends; --epochs 7 is ignored");
  EXPECT_EQ(io::read_checkpoint(out("run") + "/checkpoints/latest.h5").state.global_step, 3);
}

TEST_F(CliTest, ZeroBatchSizeExits2) {
  const auto r = train("--out " + out("run") + " --batch-size 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: --batch-size 0: must be at least 1");
}

TEST_F(CliTest, EncoderNotMatchingThePixelsExits2) {
  const auto r = run_command(test::aeflow_binary() + " train --data " + data_ + " --out " +
                             out("run") + " --encoder 100,10 --validation 100");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: --encoder starts with 100 but the images in " + data_ +
                                "/train-images-idx3-ubyte have 784 pixels (28x28): start it with "
                                "784");
}

// --weight-decay reaches the optimizer: the same run with a strong decay ends with smaller
// weights (each step keeps 1 - lr * decay = 0.99 of them before Adam's update), and the resolved
// configuration records it; a decay of 1 or more (or below 0) is refused.
TEST_F(CliTest, WeightDecayShrinksTheWeightsAndNonsenseIsRefused) {
  auto squared_norm = [&](const std::string& run) {
    double sum = 0;
    for (const auto& array : io::read_checkpoint(run + "/checkpoints/latest.h5").parameters)
      for (float value : array.values) sum += double(value) * value;
    return sum;
  };
  const std::string steps = " --steps 30 --lr 0.01 --lr-schedule constant";
  const auto plain = train("--out " + out("plain") + steps);
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const auto decayed =
      train("--out " + out("decayed") + " --steps 30 --lr 0.01 --weight-decay 0.99");
  ASSERT_EQ(decayed.exit_code, 0) << decayed.output;
  const double ratio = squared_norm(out("decayed")) / squared_norm(out("plain"));
  EXPECT_LT(ratio, 0.8);  // (0.99^30 of the squared norm is 0.55; Adam moves some back)
  std::ifstream config(out("decayed") + "/config.ini");
  std::stringstream text;
  text << config.rdbuf();
  EXPECT_CONTAINS(text.str(), "weight-decay = 0.99");
  for (const char* bad : {"1", "-0.1", "abc"}) {
    const auto r = train("--out " + out("bad") + " --weight-decay " + bad);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_CONTAINS(r.output, "error: --weight-decay");
  }
}

// The augmentation options reach the trainer (a run with them ends elsewhere than one without,
// and the resolved configuration records them); nonsense is refused before any training, and
// so is a shift that could move a 28x28 image out of view.
TEST_F(CliTest, AugmentationChangesTheRunAndNonsenseIsRefused) {
  const std::string steps = " --steps 20 --lr 0.01";
  const auto plain = train("--out " + out("plain") + steps);
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  const auto augmented = train("--out " + out("augmented") + steps +
                               " --augment-rotate 10 --augment-scale 0.1 --augment-shift 1.5");
  ASSERT_EQ(augmented.exit_code, 0) << augmented.output;
  const auto parameters = [&](const std::string& run) {
    std::vector<float> values;
    for (const auto& array : io::read_checkpoint(run + "/checkpoints/latest.h5").parameters)
      values.insert(values.end(), array.values.begin(), array.values.end());
    return values;
  };
  EXPECT_NE(parameters(out("augmented")), parameters(out("plain")));
  std::ifstream config(out("augmented") + "/config.ini");
  std::stringstream text;
  text << config.rdbuf();
  EXPECT_CONTAINS(text.str(), "augment-rotate = 10");
  EXPECT_CONTAINS(text.str(), "augment-scale = 0.1");
  EXPECT_CONTAINS(text.str(), "augment-shift = 1.5");
  for (const std::string& bad :
       std::vector<std::string>{"--augment-rotate -1", "--augment-rotate 181",
                                "--augment-scale 0.6", "--augment-scale nan", "--augment-shift -2",
                                "--augment-shift x", "--augment-shift 1e300"}) {
    const auto r = train("--out " + out("bad") + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_CONTAINS(r.output, "error: " + bad.substr(0, bad.find(' ')));
  }
  const auto far = train("--out " + out("far") + " --augment-shift 14");
  EXPECT_EQ(far.exit_code, 2) << far.output;
  EXPECT_CONTAINS(far.output,
                  "error: --augment-shift 14: must be at least 0 and below 14 (half the shorter "
                  "side of the 28x28 images)");
  const auto near = train("--out " + out("near") + " --steps 1 --augment-shift 13.9");
  EXPECT_EQ(near.exit_code, 0) << near.output;
}

TEST_F(CliTest, NegativeLearningRateExits2) {
  const auto r = train("--out " + out("run") + " --lr -1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: --lr -1: must be positive");
}

TEST_F(CliTest, JobFileWithUnknownKeyExits2) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "epochs = 1\nlearning-rate = 0.1\n");
  const auto r = train("--out " + out("run") + " --config " + job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: " + job + ": unrecognised option 'learning-rate'");
}

// Found by fuzzing the job-file parser (tests/fuzz): Boost.Program_options replaces the
// placeholders of its error messages until none is left, so an unknown option named after one
// looped forever (and SIGTERM only asked the run to stop). Now refused before Boost sees it; the
// kill after 60 s fails the test instead of hanging it.
TEST_F(CliTest, AnOptionOrJobFileHoldingABoostPlaceholderExits2InsteadOfHanging) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "epochs = 1\n# a comment\nranks-per-run option '%canonical_option%'= 1\n");
  for (const std::string& args :
       std::vector<std::string>{"--%canonical_option% 1", "--lr %value%", "--config " + job}) {
    const auto r = run_command("timeout -s KILL 60 " + test::aeflow_binary() + " train --out " +
                               out("run") + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
    EXPECT_CONTAINS(r.output, "which the option parser cannot take");
  }
  const auto r = run_command("timeout -s KILL 60 " + test::aeflow_binary() + " train --out " +
                             out("run") + " --config " + job);
  EXPECT_CONTAINS(r.output, "error: " + job + ": line 3 holds '%canonical_option%'");
}

// A job file's line that is no `key = value` reaches Boost's "invalid line" message, whose own
// placeholder loops the same way (found by fuzzing the job-file parser).
TEST_F(CliTest, AJobFileLineHoldingBoostsInvalidLinePlaceholderExits2InsteadOfHanging) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "epochs = 1\nnoise with 30%invalid_line%% on the input\n");
  const auto r = run_command("timeout -s KILL 60 " + test::aeflow_binary() + " train --out " +
                             out("run") + " --config " + job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: " + job + ": line 2 holds '%invalid_line%'");
}

TEST_F(CliTest, MissingJobFileExits2) {
  const std::string job = root_ + "/no-such-job.ini";
  const auto r = train("--out " + out("run") + " --config " + job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "error: " + job + ": cannot read the job file (--config)");
}

TEST_F(CliTest, MissingDataDirectoryPointsToFetchScript) {
  const std::string missing = root_ + "/no-data";
  const auto r = run_command(test::aeflow_binary() + " train --data " + missing + " --out " +
                             out("run") + " --encoder 784,32,8");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, missing);
  EXPECT_CONTAINS(r.output, "scripts/fetch-data.sh");
}

TEST_F(CliTest, BceWithLinearOutputExits2) {
  const auto r = train("--out " + out("run") + " --loss bce --output-activation linear");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output,
                  "error: --loss bce is computed from logits through a sigmoid: use "
                  "--output-activation sigmoid");
}

// --- runs -----------------------------------------------------------------------------------

TEST_F(CliTest, TrainHelpExits0) {
  const auto r = run_command(test::aeflow_binary() + " train --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* option : {"--encoder", "--batch-size", "--resume", "--early-stopping"})
    EXPECT_CONTAINS(r.output, option);
}

TEST_F(CliTest, JobFileValuesAreUsed) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "# a job\nepochs = 2\nbatch-size = 50\noptimizer = momentum\nlr = 0.5\n");
  const auto r = train("--out " + out("run") + " --config " + job);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ini = read_text(out("run") + "/config.ini");
  EXPECT_CONTAINS(ini, "epochs = 2\n");
  EXPECT_CONTAINS(ini, "batch-size = 50\n");
  EXPECT_CONTAINS(ini, "optimizer = momentum\n");
  EXPECT_CONTAINS(ini, "encoder = 784,32,8\n");
  // ... and really used: 500 training images at batch 50 for 2 epochs is 20 steps.
  const io::CheckpointData checkpoint = io::read_checkpoint(out("run") + "/checkpoints/latest.h5");
  EXPECT_EQ(checkpoint.state.global_step, 20);
  EXPECT_EQ(checkpoint.optimizer, "momentum");
  EXPECT_EQ(checkpoint.config_ini, ini);
  EXPECT_CONTAINS(r.output, "test rmse");
}

TEST_F(CliTest, CommandLineOverridesJobFile) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "epochs = 2\nbatch-size = 50\n");
  const auto r = train("--out " + out("run") + " --config " + job + " --batch-size 100");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string ini = read_text(out("run") + "/config.ini");
  EXPECT_CONTAINS(ini, "batch-size = 100\n");
  EXPECT_CONTAINS(ini, "epochs = 2\n");
  const io::CheckpointData checkpoint = io::read_checkpoint(out("run") + "/checkpoints/latest.h5");
  EXPECT_EQ(checkpoint.state.global_step, 10);  // 500 images / 100, 2 epochs
}

TEST_F(CliTest, InspectPrintsCheckpointFormat) {
  const auto r = train("--out " + out("run") + " --epochs 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto inspect =
      run_command(test::aeflow_binary() + " inspect " + out("run") + "/checkpoints/latest.h5");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_CONTAINS(inspect.output, "aeflow-checkpoint");
  EXPECT_CONTAINS(inspect.output, "layer_00");
}

// --- files already on disk ------------------------------------------------------------------

// An output named like an input would replace the input under --force: refused, input intact.
// So is an output in a directory that does not exist.
TEST_F(CliTest, OutputThatIsAnInputIsRefused) {
  ASSERT_EQ(train("--out " + out("run") + " --epochs 1").exit_code, 0);
  const std::string checkpoint = out("run") + "/checkpoints/latest.h5";
  const std::string target = fs::canonical(checkpoint).string();
  const std::string before = read_text(target);
  for (const std::string& command :
       {" eval --data " + data_ + " --checkpoint " + checkpoint + " --force --out " + target,
        " encode --data " + data_ + " --checkpoint " + checkpoint + " --force --out " + checkpoint,
        " decode --checkpoint " + checkpoint + " --grid=-1:1:3 --force --out " + target}) {
    const auto r = run_command(test::aeflow_binary() + command);
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.output;
    EXPECT_CONTAINS(r.output, "would replace the input");
  }
  EXPECT_EQ(read_text(target), before);
  // And an --out in a directory that is not there is refused before the work, not after.
  const auto r = run_command(test::aeflow_binary() + " eval --data " + data_ + " --checkpoint " +
                             checkpoint + " --out " + out("nowhere") + "/metrics.h5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "no such directory");
}

// --grad-sync was --allreduce: the old name (a flag or a job file's key) still works, with a
// note; both at once, and the removed thread mode, are refused with what to use instead.
TEST_F(CliTest, AllreduceIsTheOldNameOfGradSync) {
  const std::string job = root_ + "/old.ini";
  write_text(job, "allreduce = fused\nsteps = 2\n");
  const auto old_name = train("--out " + out("old") + " --config " + job);
  ASSERT_EQ(old_name.exit_code, 0) << old_name.output;
  EXPECT_CONTAINS(old_name.output, "note: --allreduce is now --grad-sync");
  const auto both = train("--out " + out("both") + " --allreduce fused --grad-sync shared");
  EXPECT_EQ(both.exit_code, 2) << both.output;
  EXPECT_CONTAINS(both.output,
                  "error: --allreduce is the old name of --grad-sync: give one of them");
  const auto thread = train("--out " + out("thread") + " --grad-sync thread");
  EXPECT_EQ(thread.exit_code, 2) << thread.output;
  EXPECT_CONTAINS(thread.output, "error: --grad-sync thread is gone");
  EXPECT_CONTAINS(thread.output, "use overlap");
  const auto unknown = train("--out " + out("unknown") + " --grad-sync ring");
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_CONTAINS(unknown.output,
                  "error: --grad-sync 'ring': expected auto, split, shared, fused or overlap");
}

// A stray word (a forgotten --out, say) is an error, not a run into the default directory.
TEST_F(CliTest, StrayArgumentExits2) {
  const auto r = train("--out " + out("run") + " " + out("mine"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "unexpected argument");
  EXPECT_CONTAINS(r.output, out("mine"));
  EXPECT_FALSE(fs::exists(out("run")));
}

TEST_F(CliTest, ZeroEpsilonAndTooManyThreadsExit2) {
  const auto epsilon = train("--out " + out("run") + " --epsilon 0");
  EXPECT_EQ(epsilon.exit_code, 2) << epsilon.output;
  EXPECT_CONTAINS(epsilon.output, "error: --epsilon 0: must be above 0");
  const auto threads = train("--out " + out("run") + " --threads 100000");
  EXPECT_EQ(threads.exit_code, 2) << threads.output;
  EXPECT_CONTAINS(threads.output, "error: --threads 100000: at most 1024");
}

// A full disk: the message names it, the exit is exactly 1 (not a crash at exit: HDF5's
// shutdown used to fault on the file it could not close, 134 or 139), and nothing is left
// half-written: every file under a real name opens and holds what it should, and no NAME.tmp is
// left. The disk fills at two points: at the first file of the epoch (64 KiB free) and after
// best.h5 fits but the step checkpoint does not (300 KiB). The small disk is a tmpfs in a mount
// namespace of its own; the run directory is copied out before the namespace goes.
TEST_F(CliTest, FullDiskFailsWithTheReasonAndLeavesOnlyWholeFiles) {
  if (run_command("unshare --mount true").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE("cannot make a mount namespace here (unshare --mount)");
  for (const int free_kib : {64, 300}) {
    SCOPED_TRACE(std::to_string(free_kib) + " KiB free");
    const std::string disk = out("disk"), after = out("after-" + std::to_string(free_kib));
    fs::create_directories(disk);
    const std::string inner =
        "mount -t tmpfs -o size=1M tmpfs " + disk + " && head -c " +
        std::to_string((1024 - free_kib) * 1024) + " /dev/zero > " + disk + "/filler && " +
        test::aeflow_binary() + " train --data " + data_ +
        " --encoder 784,32,8 --validation 100 --test-limit 100 --epochs 2 --out " + disk +
        "/run; echo \"exit=$?\"; cp -a " + disk + "/run " + after;
    const auto r = run_command("unshare --mount sh -c '" + inner + "'");
    std::smatch exit;
    if (!std::regex_search(r.output, exit, std::regex("exit=([0-9]+)\n")))
      AEFLOW_SKIP_OR_REQUIRE("cannot mount a tmpfs here:\n" << r.output);
    EXPECT_EQ(exit[1], "1") << r.output;
    EXPECT_CONTAINS(r.output, "No space left on device");
    int whole_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(after)) {
      const std::string name = entry.path().filename().string(), path = entry.path().string();
      if (entry.is_directory() || entry.is_symlink()) continue;
      EXPECT_FALSE(name.ends_with(".tmp")) << "half file left: " << path;
      if (name == "config.ini") {
        EXPECT_CONTAINS(read_text(path), "encoder = 784,32,8\n");
      } else if (name.ends_with(".h5")) {
        EXPECT_NO_THROW(io::read_checkpoint(path)) << path;  // checks every array it reads
      } else if (name == ".lock") {
        continue;  // (the run directory's lock: its holder's host and pid, or empty)
      } else {
        ADD_FAILURE() << "unexpected file " << path;
      }
      ++whole_files;
    }
    EXPECT_GE(whole_files, 1) << "not even config.ini was written";
    if (!HasFailure()) test::record_count("full_disks_survived", 1);
  }
}

}  // namespace
}  // namespace aeflow
