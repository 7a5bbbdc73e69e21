// The aeflow binary end to end: exit code 2 and a message that says what would be right for bad
// options, job files and data; job-file values reach the run (config.ini) and the command line
// wins over them; help and inspect; and SIGTERM mid-run exits 3 with a checkpoint that
// `--resume auto` finishes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aeflow/io/checkpoint.hpp"
#include "test_support.hpp"

extern char** environ;

namespace aeflow {
namespace {

namespace fs = std::filesystem;
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

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// --- refusals: exit code 2 and a helpful message --------------------------------------------

TEST_F(CliTest, UnknownOptionExits2) {
  const auto r = train("--out " + out("run") + " --bogus-option 3");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "bogus-option");
  EXPECT_CONTAINS(r.output, "--help");
  EXPECT_FALSE(fs::exists(out("run") + "/checkpoints"));
}

TEST_F(CliTest, UnknownActivationExits2) {
  const auto r = train("--out " + out("run") + " --activation swish");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "swish");
  EXPECT_CONTAINS(r.output, "relu");  // names the choices
}

TEST_F(CliTest, UnknownPrecisionExits2) {
  const auto r = train("--out " + out("run") + " --precision fp16");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "fp16");
  EXPECT_CONTAINS(r.output, "bf16");  // names the choices
}

// Linear layers, SGD at a learning rate of 1000: the loss overflows within a few steps. The run
// stops there with exit 2 and says what to change, instead of training on NaN.
TEST_F(CliTest, DivergingTrainingStopsWithAClearMessage) {
  const auto r = train("--out " + out("run") +
                       " --activation linear --code-activation linear --output-activation linear"
                       " --optimizer sgd --lr 1000 --epochs 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "diverged");
  EXPECT_CONTAINS(r.output, "--lr");
}

TEST_F(CliTest, ZeroBatchSizeExits2) {
  const auto r = train("--out " + out("run") + " --batch-size 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--batch-size");
  EXPECT_CONTAINS(r.output, "at least 1");
}

TEST_F(CliTest, EncoderNotMatchingThePixelsExits2) {
  const auto r = run_command(test::aeflow_binary() + " train --data " + data_ + " --out " +
                             out("run") + " --encoder 100,10 --validation 100");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "784");
  EXPECT_CONTAINS(r.output, "--encoder");
}

TEST_F(CliTest, NegativeLearningRateExits2) {
  const auto r = train("--out " + out("run") + " --lr -1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, "--lr");
  EXPECT_CONTAINS(r.output, "positive");
}

TEST_F(CliTest, JobFileWithUnknownKeyExits2) {
  const std::string job = root_ + "/job.ini";
  write_text(job, "epochs = 1\nlearning-rate = 0.1\n");
  const auto r = train("--out " + out("run") + " --config " + job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, job);
  EXPECT_CONTAINS(r.output, "learning-rate");
}

TEST_F(CliTest, MissingJobFileExits2) {
  const std::string job = root_ + "/no-such-job.ini";
  const auto r = train("--out " + out("run") + " --config " + job);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_CONTAINS(r.output, job);
  EXPECT_CONTAINS(r.output, "cannot read");
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
  EXPECT_CONTAINS(r.output, "bce");
  EXPECT_CONTAINS(r.output, "--output-activation sigmoid");
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

// --- preemption -----------------------------------------------------------------------------

// Starts ARGV with stdout and stderr to LOG; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits up to SECONDS for PID; returns its exit code (128 + signal if killed), or -1 on timeout
// (then it is killed).
int wait_for(pid_t pid, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Starts a 1000-epoch run into RUN (minutes), sends SIGNAL right after its first checkpoint
// and returns the exit code, with the run's output in LOG.
int stop_after_first_checkpoint(const std::string& data, const std::string& run,
                                const std::string& log, int signal) {
  const pid_t pid =
      spawn({test::aeflow_binary(), "train", "--data", data, "--out", run, "--encoder", "784,32,8",
             "--validation", "100", "--test-limit", "100", "--epochs", "1000"},
            log);
  EXPECT_GT(pid, 0);
  if (pid <= 0) return -1;
  const fs::path latest = fs::path(run) / "checkpoints" / "latest.h5";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(latest) && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ADD_FAILURE() << "aeflow ended before its first checkpoint:\n" << read_text(log);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(fs::exists(latest)) << "no checkpoint after 30 s:\n" << read_text(log);
  EXPECT_EQ(kill(pid, signal), 0);
  return wait_for(pid, 30);
}

TEST_F(CliTest, SigtermWritesCheckpointExits3AndResumeAutoFinishes) {
  const std::string run = out("run"), log = root_ + "/train.log";
  const int code = stop_after_first_checkpoint(data_, run, log, SIGTERM);
  const std::string stopped_log = read_text(log);
  ASSERT_EQ(code, 3) << stopped_log;  // train::kExitPreempted
  EXPECT_CONTAINS(stopped_log, "stopped by signal 15");
  EXPECT_CONTAINS(stopped_log, "--resume auto");
  const fs::path latest = fs::path(run) / "checkpoints" / "latest.h5";

  const io::CheckpointData stopped = io::read_checkpoint(latest.string());
  EXPECT_FALSE(stopped.state.finished);
  EXPECT_GE(stopped.state.epoch, 1);
  EXPECT_LT(stopped.state.epoch, 1000);
  EXPECT_GT(stopped.state.global_step, 0);

  // Finish the run (with a nearer end, to keep the test short).
  const int64_t end = stopped.state.epoch + 1;
  const auto resumed = train("--out " + run + " --resume auto --epochs " + std::to_string(end));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_CONTAINS(resumed.output, "resumed");
  EXPECT_CONTAINS(resumed.output, "test rmse");
  const io::CheckpointData finished = io::read_checkpoint(latest.string());
  EXPECT_TRUE(finished.state.finished);
  EXPECT_EQ(finished.state.epoch, end);
  EXPECT_EQ(finished.state.global_step, end * 8);  // 500 images at batch 64: 8 steps per epoch
  EXPECT_EQ(finished.history.size(), size_t(end));
}

// Ctrl-C stops a run as SIGTERM does: the step finishes, a checkpoint, exit 3.
TEST_F(CliTest, SigintStopsLikeSigterm) {
  const std::string run = out("run"), log = root_ + "/train.log";
  const int code = stop_after_first_checkpoint(data_, run, log, SIGINT);
  const std::string stopped_log = read_text(log);
  ASSERT_EQ(code, 3) << stopped_log;
  EXPECT_CONTAINS(stopped_log, "stopped by signal 2");
  const auto checkpoint = io::read_checkpoint(run + "/checkpoints/latest.h5");
  EXPECT_GT(checkpoint.state.global_step, 0);
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
  EXPECT_CONTAINS(epsilon.output, "--epsilon");
  const auto threads = train("--out " + out("run") + " --threads 100000");
  EXPECT_EQ(threads.exit_code, 2) << threads.output;
  EXPECT_CONTAINS(threads.output, "--threads");
}

// A full disk: the message names it, the exit is 1 (not a crash at exit: HDF5's shutdown used
// to fault on the file it could not close), and nothing is left half-written. The small disk is a
// tmpfs in a mount namespace of its own; where one cannot be made the test skips.
TEST_F(CliTest, FullDiskFailsWithTheReasonAndNoCrash) {
  if (run_command("unshare --mount true").exit_code != 0)
    GTEST_SKIP() << "cannot make a mount namespace here (unshare --mount)";
  const std::string disk = out("disk");
  fs::create_directories(disk);
  // 64 KiB free: config.ini fits, the first checkpoint (~170 KB) does not.
  const std::string inner = "mount -t tmpfs -o size=1M tmpfs " + disk + " && head -c 983040 " +
                            "/dev/zero > " + disk + "/filler && " + test::aeflow_binary() +
                            " train --data " + data_ +
                            " --encoder 784,32,8 --validation 100 --test-limit 100 --epochs 1 "
                            "--out " +
                            disk + "/run; echo \"exit=$?\"; ls " + disk + "/run/checkpoints";
  const auto r = run_command("unshare --mount sh -c '" + inner + "'");
  if (r.output.find("exit=") == std::string::npos)
    GTEST_SKIP() << "cannot mount a tmpfs here:\n" << r.output;
  EXPECT_CONTAINS(r.output, "No space left on device");
  EXPECT_CONTAINS(r.output, "exit=1");
  const std::string listing = r.output.substr(r.output.find("exit="));
  EXPECT_EQ(listing.find(".tmp"), std::string::npos) << r.output;  // no half file left
}

}  // namespace
}  // namespace aeflow
