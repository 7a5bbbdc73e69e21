// Stop signals end a run the way a batch system needs: SIGTERM, SIGUSR1 and SIGINT finish the
// step, write a checkpoint of exactly that step (the one the "stopped ... after step N" line
// names), exit 3, and `--resume auto` continues; a second Ctrl-C ends at once (130); a signal
// that reaches one rank stops every rank; a signal during the last step ends the run normally.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/train/trainer.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::spawn;
using test::wait_for;
using test::wait_for_text;
using Clock = std::chrono::steady_clock;

// The N of "after step N" in TEXT, or -1.
int64_t stopped_after_step(const std::string& text) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex("after step ([0-9]+);"))) return -1;
  return std::stoll(match[1]);
}

std::vector<std::string> step_files(const std::string& run) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(run) / "checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("step-")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string step_file(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%09lld.h5", static_cast<long long>(step));
  return name;
}

class StopSignalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("signals");
    // 6000 training images in batches of 2: 3000 steps an epoch, seconds of work, so a signal
    // sent as training starts lands mid-epoch, where no epoch checkpoint exists yet.
    data_ = test::write_synthetic_mnist(root_ + "/data", 6100, 100);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  // `aeflow train` into RUN with EXTRA options (784-256-8 unless they name an --encoder).
  std::vector<std::string> train(const std::string& run, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {
        test::aeflow_binary(), "train", "--data",       data_, "--out",     run,
        "--validation",        "100",   "--test-limit", "100", "--threads", "1"};
    if (std::find(extra.begin(), extra.end(), "--encoder") == extra.end())
      argv.insert(argv.end(), {"--encoder", "784,256,8"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  // A long run into RUN, sent SIGNAL as soon as its training loop starts; returns the exit code,
  // the output in LOG.
  int stop_mid_epoch(const std::string& run, const std::string& log, int signal) {
    const pid_t pid = spawn(train(run, {"--batch-size", "2", "--epochs", "1000"}), log);
    EXPECT_GT(pid, 0);
    if (pid <= 0) return -1;
    EXPECT_TRUE(wait_for_text(pid, log, "aeflow train:")) << read_text(log);
    EXPECT_EQ(kill(pid, signal), 0);
    return wait_for(pid, 60);
  }
  // The stopped run wrote exactly one checkpoint, of the step its last line names, mid-epoch.
  void expect_checkpoint_of_the_named_step(const std::string& run, const std::string& output) {
    const int64_t step = stopped_after_step(output);
    ASSERT_GT(step, 0) << output;
    ASSERT_LT(step, 3000) << "the signal came after the first epoch ended:\n" << output;
    EXPECT_EQ(step_files(run), std::vector<std::string>{step_file(step)}) << output;
    EXPECT_CONTAINS(output, "checkpoint " + run + "/checkpoints/" + step_file(step));
    const io::CheckpointData stopped = io::read_checkpoint(run + "/checkpoints/latest.h5");
    EXPECT_EQ(stopped.state.global_step, step);
    EXPECT_EQ(stopped.state.epoch, 0);
    EXPECT_EQ(stopped.state.step_in_epoch, step);
    EXPECT_FALSE(stopped.state.finished);
  }

  std::string root_, data_;
};

TEST_F(StopSignalsTest, SigtermWritesTheCheckpointOfTheStepItNamesAndResumeAutoContinues) {
  const std::string run = root_ + "/run", log = root_ + "/train.log";
  const int code = stop_mid_epoch(run, log, SIGTERM);
  const std::string output = read_text(log);
  ASSERT_EQ(code, train::kExitPreempted) << output;
  EXPECT_CONTAINS(output, "stopped by signal 15 after step");
  EXPECT_CONTAINS(output, "continue with --resume auto");
  expect_checkpoint_of_the_named_step(run, output);

  // Continue it (to a nearer end, to keep the test short): from the stopped step on.
  const int64_t step = stopped_after_step(output), end = step + 10;
  std::string command;
  for (const std::string& word :
       train(run, {"--batch-size", "2", "--resume", "auto", "--steps", std::to_string(end)}))
    command += word + " ";
  const auto resumed = test::run_command(command);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_CONTAINS(resumed.output, "resumed " + run + "/checkpoints/" + step_file(step));
  EXPECT_CONTAINS(resumed.output, "test rmse");
  const io::CheckpointData finished = io::read_checkpoint(run + "/checkpoints/latest.h5");
  EXPECT_TRUE(finished.state.finished);
  EXPECT_EQ(finished.state.global_step, end);
}

// Ctrl-C's SIGINT stops a run as SIGTERM does, and so does SIGUSR1, which Slurm sends ahead of
// the time limit when asked to (--signal=USR1@60).
TEST_F(StopSignalsTest, SigintAndSigusr1StopLikeSigterm) {
  for (const int signal : {SIGINT, SIGUSR1}) {
    SCOPED_TRACE("signal " + std::to_string(signal));
    const std::string run = root_ + "/run-" + std::to_string(signal);
    const std::string log = run + ".log";
    const int code = stop_mid_epoch(run, log, signal);
    const std::string output = read_text(log);
    ASSERT_EQ(code, train::kExitPreempted) << output;
    EXPECT_CONTAINS(output, "stopped by signal " + std::to_string(signal) + " after step");
    expect_checkpoint_of_the_named_step(run, output);
  }
}

// Steps of a whole second's work (784-1024-64 on 4000 images a batch, one thread): a signal sent
// as training starts arrives inside the first step.
std::vector<std::string> slow_steps(const std::string& steps) {
  return {"--encoder", "784,1024,64", "--batch-size", "4000", "--steps", steps};
}

// A second Ctrl-C while the first is still finishing its step ends the process at once, with
// the status a shell expects of SIGINT, and no "stopped" line.
TEST_F(StopSignalsTest, SecondCtrlCEndsAtOnce) {
  const std::string run = root_ + "/run", log = root_ + "/train.log";
  const pid_t pid = spawn(train(run, slow_steps("100")), log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_text(pid, log, "aeflow train:")) << read_text(log);
  ASSERT_EQ(kill(pid, SIGINT), 0);
  // (apart, so the two are delivered as two: a signal still pending absorbs a second one)
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const auto sent = Clock::now();
  const int code = wait_for(pid, 60);
  const std::string output = read_text(log);
  EXPECT_EQ(code, 128 + SIGINT) << output;
  EXPECT_EQ(output.find("stopped by"), std::string::npos) << output;
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - sent).count(), 30) << output;
}

// A signal during the run's last step has nothing left to stop: the run ends as it would have,
// with exit 0, its test metrics and metrics.h5.
TEST_F(StopSignalsTest, SignalDuringTheLastStepEndsTheRunNormally) {
  const std::string run = root_ + "/run", log = root_ + "/train.log";
  const pid_t pid = spawn(train(run, slow_steps("1")), log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_text(pid, log, "aeflow train:")) << read_text(log);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  const int code = wait_for(pid, 60);
  const std::string output = read_text(log);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output.find("stopped by"), std::string::npos) << output;
  EXPECT_CONTAINS(output, "test rmse");
  EXPECT_TRUE(fs::exists(run + "/metrics.h5")) << output;
  EXPECT_TRUE(io::read_checkpoint(run + "/checkpoints/latest.h5").state.finished);
}

// Under mpiexec -n 2 the signal reaches rank 1 only (a node's share of a job, or a user's kill):
// both ranks stop after the same step, rank 0 says where the signal went, one checkpoint.
TEST_F(StopSignalsTest, ASignalToOneRankStopsEveryRank) {
  const std::string run = root_ + "/run", log = root_ + "/train.log";
  std::string command;
  for (const std::string& word : train(run, {"--batch-size", "4", "--epochs", "1000"}))
    command += " '" + word + "'";
  // Each rank writes its pid before it becomes aeflow (exec keeps the pid).
  const pid_t pid = spawn({"mpiexec", "-n", "2", "--oversubscribe", "--bind-to", "none", "sh", "-c",
                           "echo $$ > " + root_ + "/pid.$OMPI_COMM_WORLD_RANK; exec" + command},
                          log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_text(pid, log, "aeflow train:")) << read_text(log);
  const std::string rank1 = read_text(root_ + "/pid.1");
  ASSERT_FALSE(rank1.empty());
  ASSERT_EQ(kill(pid_t(std::stol(rank1)), SIGTERM), 0);
  const int code = wait_for(pid, 60);
  const std::string output = read_text(log);
  EXPECT_EQ(code, train::kExitPreempted) << output;
  EXPECT_CONTAINS(output, "stopped by a signal to another rank after step");
  const int64_t step = stopped_after_step(output);
  ASSERT_GT(step, 0) << output;
  ASSERT_LT(step, 1500) << "the signal came after the first epoch ended:\n" << output;
  EXPECT_EQ(step_files(run), std::vector<std::string>{step_file(step)}) << output;
  const io::CheckpointData stopped = io::read_checkpoint(run + "/checkpoints/latest.h5");
  EXPECT_EQ(stopped.state.global_step, step);
  EXPECT_EQ(stopped.state.world_size, 2);
}

}  // namespace
}  // namespace aeflow
