// `aeflow sweep` started by mpiexec as a user would: a failed run is recorded with its message
// while the others finish, and a second invocation trains nothing new; a group that finishes
// early takes the next pending runs; a sweep stopped by SIGTERM and run again ends with the bits
// of an uninterrupted one; a sweep's run has the bits of `aeflow train` on as many ranks;
// successive halving cuts the bad settings early and keeps the best per k; bad input is refused
// before any training; a run trained before with another configuration is refused, naming the
// difference, and a larger grid trains only its new points.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/sweep_table.hpp"
#include "aeflow/train/trainer.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using io::RunStatus;
using io::SweepRow;

// The base model of the tests' sweeps and of the trainings they compare with.
const std::vector<std::pair<std::string, std::string>> kBaseModel = {{"--activation", "sigmoid"},
                                                                     {"--code-activation", ""},
                                                                     {"--loss", "mse"},
                                                                     {"--lr", "0.001"},
                                                                     {"--lr-schedule", "constant"}};

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("sweep");
    data_ = test::write_synthetic_mnist(root_ + "/data", 1100, 200);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  // The words of `aeflow sweep` into OUT (under root_) with the tiny base configuration, and
  // EXTRA, whose options replace the base's. The base model is a sigmoid MSE model at a constant
  // learning rate (the tests' learning rates and divergences are chosen for it), unless EXTRA
  // names a job file, whose model it is then.
  std::vector<std::string> sweep(const std::string& out, const std::vector<std::string>& extra) {
    std::vector<std::pair<std::string, std::string>> base = {
        {"--data", data_},         {"--out", root_ + "/" + out},
        {"--encoder", "784,32,4"}, {"--batch-size", "64"},
        {"--validation", "100"},   {"--test-limit", "200"},
        {"--seed", "3"},           {"--epochs", "2"}};
    if (std::find(extra.begin(), extra.end(), "--config") == extra.end())
      base.insert(base.end(), kBaseModel.begin(), kBaseModel.end());
    std::vector<std::string> words = {test::aeflow_binary(), "sweep"};
    for (const auto& [option, value] : base)
      if (std::find(extra.begin(), extra.end(), option) == extra.end())
        words.insert(words.end(), {option, value});
    words.insert(words.end(), extra.begin(), extra.end());
    return words;
  }
  // Runs WORDS under mpiexec -n RANKS (0: no mpiexec).
  test::CommandResult run(int ranks, const std::vector<std::string>& words) {
    std::string command =
        ranks > 0 ? "timeout 300 mpiexec --oversubscribe --bind-to none -n " + std::to_string(ranks)
                  : "timeout 300";
    for (const std::string& word : words) command += " '" + word + "'";
    return test::run_command(command);
  }
  std::vector<SweepRow> table(const std::string& out) {
    return io::read_sweep_table(root_ + "/" + out + "/sweep.h5");
  }
  static const SweepRow& row(const std::vector<SweepRow>& rows, const std::string& name) {
    auto found =
        std::find_if(rows.begin(), rows.end(), [&](const SweepRow& r) { return r.name == name; });
    if (found == rows.end()) throw std::runtime_error("no run " + name + " in the table");
    return *found;
  }
  // The parameters and optimizer state of RUN's latest checkpoint, as one vector.
  static std::vector<float> final_state(const std::string& run) {
    const io::CheckpointData c = io::read_checkpoint(run + "/checkpoints/latest.h5");
    std::vector<float> out;
    for (const auto& array : c.parameters)
      out.insert(out.end(), array.values.begin(), array.values.end());
    for (const auto& array : c.optimizer_state)
      out.insert(out.end(), array.values.begin(), array.values.end());
    return out;
  }
  int interrupt_and_resume(int signal);
  std::string root_, data_;
};

TEST_F(SweepTest, AFailedRunIsRecordedTheOthersFinishAndARerunTrainsNothingNew) {
  // Five runs on two groups of two ranks, linear layers and plain SGD; at a learning rate of
  // 1000 the last diverges within a few steps, which every rank of its group sees in the
  // all-reduced loss.
  const auto words = sweep(
      "s", {"--dims", "4", "--grid", "lr=0.01,0.02,0.03,0.04,1000", "--optimizer", "sgd",
            "--activation", "linear", "--output-activation", "linear", "--ranks-per-run", "2"});
  const auto first = run(4, words);
  EXPECT_EQ(first.exit_code, 1) << first.output;
  EXPECT_CONTAINS(first.output, "5 runs, 5 to train, on 2 group(s) of 2 rank(s)");
  EXPECT_CONTAINS(first.output, "ended k=4,lr=1000: failed, 0 epochs: the training loss is");
  EXPECT_CONTAINS(first.output, "--retry-failed trains them again");
  std::vector<SweepRow> rows = table("s");
  ASSERT_EQ(rows.size(), 5u);
  int done = 0;
  for (const SweepRow& r : rows) {
    if (r.name == "k=4,lr=1000") {
      EXPECT_EQ(r.status, RunStatus::kFailed);
      EXPECT_CONTAINS(r.error, "training diverged; lower --lr");
      continue;
    }
    done += r.status == RunStatus::kDone;
    EXPECT_EQ(r.epochs, 2);
    EXPECT_EQ(r.ranks, 2);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_GT(r.test_rmse, 0);
    EXPECT_LT(r.test_rmse, 0.5);
    EXPECT_GT(r.pca_rmse, 0);
    EXPECT_EQ(r.val_loss.size(), 2u);
    EXPECT_TRUE(fs::exists(root_ + "/s/" + r.run_dir + "/metrics.h5")) << r.run_dir;
  }
  EXPECT_EQ(done, 4);

  const auto again = run(4, words);
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_CONTAINS(again.output, "5 runs, 0 to train");
  EXPECT_EQ(again.output.find("starts"), std::string::npos) << again.output;
  for (const SweepRow& r : table("s")) EXPECT_EQ(r.attempts, 1) << r.name;

  auto retry = words;
  retry.push_back("--retry-failed");
  const auto retried = run(4, retry);
  EXPECT_EQ(retried.exit_code, 1) << retried.output;
  EXPECT_CONTAINS(retried.output, "5 runs, 1 to train");
  EXPECT_EQ(row(table("s"), "k=4,lr=1000").attempts, 2);
}

// A failure on one rank of a group of two leaves the other rank waiting in a collective: the
// job ends (MPI_Abort) with the failing rank's message, never a hang, and the run is not
// recorded as failed (a re-run trains it).
TEST_F(SweepTest, AFailureOnOneRankOfAGroupEndsTheJob) {
  const auto words = sweep(
      "s", {"--dims", "4,5", "--fail-at-step", "3", "--fail-rank", "1", "--ranks-per-run", "2"});
  const auto result = run(2, words);
  EXPECT_NE(result.exit_code, 0) << result.output;
  EXPECT_NE(result.exit_code, 124) << "timed out (a hang):\n" << result.output;
  EXPECT_CONTAINS(result.output, "injected failure on rank 1 at step 3");
  for (const SweepRow& r : table("s")) EXPECT_NE(r.status, RunStatus::kFailed) << r.name;
}

TEST_F(SweepTest, AGroupThatFinishesEarlyTakesTheNextPendingRuns) {
  // The longest run goes first, to one group; the other group takes the three short ones, one
  // after another, while it trains.
  const auto result = run(4, sweep("s", {"--dims", "4", "--grid", "epochs=1,2,3,150",
                                         "--ranks-per-run", "2", "--train-limit", "500"}));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<SweepRow> rows = table("s");
  ASSERT_EQ(rows.size(), 4u);
  const int64_t long_group = row(rows, "k=4,epochs=150").group;
  std::map<int64_t, int> runs_of;
  for (const SweepRow& r : rows) {
    EXPECT_EQ(r.status, RunStatus::kDone) << r.name;
    ++runs_of[r.group];
  }
  EXPECT_EQ(runs_of[long_group], 1) << result.output;
  EXPECT_EQ(runs_of[1 - long_group], 3) << result.output;
  // The start lines in the order the runs were handed out: longest first.
  const size_t long_start = result.output.find("starts k=4,epochs=150");
  const size_t start3 = result.output.find("starts k=4,epochs=3"),
               start2 = result.output.find("starts k=4,epochs=2"),
               start1 = result.output.find("starts k=4,epochs=1 ");
  ASSERT_NE(long_start, std::string::npos) << result.output;
  EXPECT_LT(start3, start2) << result.output;
  EXPECT_LT(start2, start1) << result.output;
}

// Stops a 2-rank sweep of three runs with SIGNAL to every rank once a run has finished its first
// epoch (of 10: mid-run, whatever the speed), checks what is on disk, runs the same command
// again and expects the final bits of an uninterrupted sweep. Returns the stopped job's exit
// code.
int SweepTest::interrupt_and_resume(int signal) {
  // Batches of 4: 250 steps an epoch, 2500 a run.
  const std::vector<std::string> grid = {"--dims",        "2,3,4", "--batch-size", "4",
                                         "--train-limit", "1000",  "--epochs",     "10"};
  const auto whole = run(2, sweep("whole", grid));
  EXPECT_EQ(whole.exit_code, 0) << whole.output;

  const auto words = sweep("stopped", grid);
  std::string command;
  for (const std::string& word : words) command += " '" + word + "'";
  const std::string log = root_ + "/stopped.log";
  // Each rank writes its pid before it becomes aeflow (exec keeps the pid); the signal goes to
  // every rank, as Slurm sends it.
  const pid_t pid =
      test::spawn({"mpiexec", "-n", "2", "--oversubscribe", "--bind-to", "none", "sh", "-c",
                   "echo $$ > " + root_ + "/pid.$OMPI_COMM_WORLD_RANK; exec" + command},
                  log);
  EXPECT_GT(pid, 0);
  EXPECT_TRUE(test::wait_for_text(pid, log, "starts")) << test::read_text(log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool first_epoch = false;
  while (!first_epoch && std::chrono::steady_clock::now() < deadline) {
    for (const auto& entry : fs::directory_iterator(root_ + "/stopped"))
      first_epoch |= test::read_text(entry.path().string() + "/train.log").find("epoch 1/10") !=
                     std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(first_epoch) << test::read_text(log);
  for (const char* rank : {"0", "1"})
    EXPECT_EQ(kill(pid_t(std::stol(test::read_text(root_ + "/pid." + rank))), signal), 0);
  const int code = test::wait_for(pid, 120);

  // Whatever the signal, every file under a real name opens and reads whole. (A process killed
  // during a write leaves its NAME.tmp behind; the next write of NAME removes it. One that was
  // signalled to stop removes its own.)
  for (const auto& entry : fs::recursive_directory_iterator(root_ + "/stopped")) {
    const std::string name = entry.path().filename().string(), path = entry.path().string();
    if (signal != SIGKILL) {
      EXPECT_FALSE(name.ends_with(".tmp")) << "half file left: " << path;
    }
    if (name == "sweep.h5" || name == "sweep-run.h5") {
      EXPECT_NO_THROW(io::read_sweep_table(path)) << path;
    } else if ((name.starts_with("step-") && name.ends_with(".h5")) || name == "latest.h5" ||
               name == "best.h5") {
      EXPECT_NO_THROW(io::read_checkpoint(path)) << path;
    }
  }

  const auto resumed = run(2, words);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  const std::vector<SweepRow> a = table("whole"), b = table("stopped");
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(b.size(), 3u);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(b[i].status, RunStatus::kDone);
    EXPECT_EQ(a[i].run_dir, b[i].run_dir);
    EXPECT_EQ(a[i].test_rmse, b[i].test_rmse) << a[i].name;
    EXPECT_EQ(final_state(root_ + "/whole/" + a[i].run_dir),
              final_state(root_ + "/stopped/" + b[i].run_dir))
        << a[i].name;
  }
  return code;
}

TEST_F(SweepTest, StoppedBySigtermAndRunAgainItEndsWithTheBitsOfAnUninterruptedSweep) {
  EXPECT_EQ(interrupt_and_resume(SIGTERM), train::kExitPreempted);
  const std::string output = test::read_text(root_ + "/stopped.log");
  EXPECT_CONTAINS(output, "run the same command again to go on");
  EXPECT_CONTAINS(output, "interrupted");  // (the table printed as the job stopped)
}

// kill -9 to every rank: no checkpoint on the way out, no record; the re-run resumes the runs
// from their last epoch's checkpoint.
TEST_F(SweepTest, KilledHardAndRunAgainItEndsWithTheBitsOfAnUninterruptedSweep) {
  EXPECT_NE(interrupt_and_resume(SIGKILL), 0);
}

TEST_F(SweepTest, ARunOfTheSweepHasTheBitsOfTrainOnAsManyRanks) {
  const auto swept =
      run(2, sweep("s", {"--dims", "5", "--grid", "lr=0.003", "--ranks-per-run", "2"}));
  ASSERT_EQ(swept.exit_code, 0) << swept.output;
  const auto trained = run(2, {test::aeflow_binary(),
                               "train",
                               "--data",
                               data_,
                               "--out",
                               root_ + "/train",
                               "--encoder",
                               "784,32,5",
                               "--lr",
                               "0.003",
                               "--batch-size",
                               "64",
                               "--validation",
                               "100",
                               "--test-limit",
                               "200",
                               "--seed",
                               "3",
                               "--epochs",
                               "2",
                               "--activation",
                               "sigmoid",
                               "--code-activation",
                               "",
                               "--loss",
                               "mse",
                               "--lr-schedule",
                               "constant"});
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const SweepRow r = table("s").at(0);
  EXPECT_EQ(r.ranks, 2);
  EXPECT_EQ(final_state(root_ + "/s/" + r.run_dir), final_state(root_ + "/train"));
}

TEST_F(SweepTest, SuccessiveHalvingCutsTheBadSettingsAndKeepsTheBestPerK) {
  // One group of two ranks takes the runs in turn (equal costs: grid order), so each k's good
  // setting reaches the first rung before its learning rate 100x too high.
  const auto result =
      run(2, sweep("s", {"--dims", "2,4", "--grid", "lr=0.003,0.3", "--ranks-per-run", "2",
                         "--epochs", "6", "--prune", "successive-halving", "--rungs", "1", "--eta",
                         "2", "--activation", "relu", "--train-limit", "600"}));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::vector<SweepRow> rows = table("s");
  for (const char* k : {"2", "4"}) {
    const SweepRow& good = row(rows, std::string("k=") + k + ",lr=0.003");
    const SweepRow& bad = row(rows, std::string("k=") + k + ",lr=0.3");
    EXPECT_EQ(good.status, RunStatus::kDone) << result.output;
    EXPECT_EQ(good.epochs, 6);
    EXPECT_EQ(bad.status, RunStatus::kPruned) << result.output;
    EXPECT_LT(bad.epochs, 6);
    EXPECT_GT(bad.last_val_loss, good.val_loss.at(size_t(bad.epochs) - 1));
  }
  EXPECT_TRUE(fs::exists(root_ + "/s/rungs.tsv"));
}

// A job array: --array-count says how many tasks, each task trains its run on all its job's
// ranks (the bits of the same run in a one-job sweep on as many ranks) and writes its record;
// --summary gathers the records into sweep.h5. A task whose run is done does nothing.
TEST_F(SweepTest, AJobArrayTrainsOneRunPerTaskAndTheSummaryGathersThem) {
  const auto words = sweep("array", {"--dims", "2,3,4"});
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = words;
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  };
  const auto count = run(0, with({"--array-count"}));
  ASSERT_EQ(count.exit_code, 0) << count.output;
  EXPECT_EQ(count.output, "3\n");
  for (const char* task : {"2", "0", "1"}) {
    const auto result = run(2, with({"--array-task", task}));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    EXPECT_FALSE(fs::exists(root_ + "/array/sweep.h5")) << "a task wrote the table";
  }
  const auto again = run(2, with({"--array-task", "1"}));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_CONTAINS(again.output, "sweep: task 1 (k=3) is done already");
  const auto beyond = run(0, with({"--array-task", "3"}));
  EXPECT_EQ(beyond.exit_code, 2) << beyond.output;
  EXPECT_CONTAINS(beyond.output, "--array-task 3: the sweep has 3 runs, tasks 0 to 2");

  const auto summary = run(0, with({"--summary"}));
  ASSERT_EQ(summary.exit_code, 0) << summary.output;
  EXPECT_CONTAINS(summary.output, "wrote " + root_ + "/array/sweep.h5");
  const auto one_job = run(2, sweep("one-job", {"--dims", "2,3,4", "--ranks-per-run", "2"}));
  ASSERT_EQ(one_job.exit_code, 0) << one_job.output;
  const std::vector<SweepRow> tasks = table("array"), job = table("one-job");
  ASSERT_EQ(tasks.size(), 3u);
  for (size_t i = 0; i < tasks.size(); ++i) {
    EXPECT_EQ(tasks[i].status, RunStatus::kDone);
    EXPECT_EQ(tasks[i].ranks, 2);
    EXPECT_EQ(tasks[i].group, int64_t(i));  // (the task's index: k = 2, 3, 4 in grid order)
    EXPECT_EQ(tasks[i].run_dir, job[i].run_dir);
    EXPECT_EQ(final_state(root_ + "/array/" + tasks[i].run_dir),
              final_state(root_ + "/one-job/" + job[i].run_dir))
        << tasks[i].name;
  }
}

// One writer per directory: while a sweep runs, a second sweep into its directory is refused,
// and so is `aeflow train --resume auto` into one of its runs, each naming the holder.
TEST_F(SweepTest, ASecondWriterIsRefusedWhileASweepRuns) {
  // 200 epochs of 250 steps: the first sweep is still in its first run when the others start.
  const auto words = sweep("s", {"--dims", "2,3", "--batch-size", "4", "--epochs", "200"});
  const std::string log = root_ + "/first.log";
  const pid_t pid = test::spawn(words, log);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(test::wait_for_text(pid, log, "starts")) << test::read_text(log);
  const auto second = run(0, words);
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_CONTAINS(second.output, root_ + "/s is in use by host ");
  EXPECT_CONTAINS(second.output, " pid " + std::to_string(pid));
  // The run being trained, by its own lock.
  std::string run_dir;
  for (const auto& entry : fs::directory_iterator(root_ + "/s"))
    if (entry.is_directory() && fs::exists(entry.path() / "train.log")) run_dir = entry.path();
  ASSERT_FALSE(run_dir.empty());
  const auto train = run(0, {test::aeflow_binary(), "train", "--data", data_, "--out", run_dir,
                             "--encoder", "784,32,2", "--validation", "100", "--resume", "auto"});
  EXPECT_EQ(train.exit_code, 2) << train.output;
  EXPECT_CONTAINS(train.output, run_dir + " is in use by host ");
  kill(pid, SIGTERM);
  EXPECT_EQ(test::wait_for(pid, 60), train::kExitPreempted) << test::read_text(log);
  // The holder gone, the directory is free: the summary (which takes the lock) runs, and says
  // that runs are left.
  auto summary = words;
  summary.push_back("--summary");
  const auto gathered = run(0, summary);
  EXPECT_EQ(gathered.exit_code, train::kExitPreempted) << gathered.output;
  EXPECT_CONTAINS(gathered.output, "runs are left; run the same command again to go on");
}

// A disk that fills mid-sweep (a 1 MiB tmpfs in a mount namespace, most of it taken): each run's
// write fails, each is recorded as failed with the reason, the sweep ends with exit 1 (not a
// crash in HDF5's shutdown), and every file left under a real name opens whole.
TEST_F(SweepTest, AFullDiskFailsTheRunsWithTheReasonAndLeavesOnlyWholeFiles) {
  if (geteuid() != 0) AEFLOW_SKIP_OR_REQUIRE("needs root to mount a small tmpfs");
  if (test::run_command("unshare --mount true").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE("cannot make a mount namespace here (unshare --mount)");
  const std::string disk = root_ + "/disk", after = root_ + "/after";
  fs::create_directories(disk);
  std::string command;
  for (const std::string& word : sweep("disk/s", {"--dims", "2,3"})) command += " '" + word + "'";
  const auto r =
      test::run_command("unshare --mount sh -c \"mount -t tmpfs -o size=1M tmpfs " + disk +
                        " && head -c 700000 " + "/dev/zero > " + disk + "/filler && " + command +
                        "; echo exit=\\$?; cp -a " + disk + "/s " + after + "\"");
  if (r.output.find("exit=") == std::string::npos)
    AEFLOW_SKIP_OR_REQUIRE("cannot mount a tmpfs here:\n" << r.output);
  EXPECT_CONTAINS(r.output, "exit=1\n");
  const std::vector<SweepRow> rows = io::read_sweep_table(after + "/sweep.h5");
  ASSERT_EQ(rows.size(), 2u);
  for (const SweepRow& row : rows) {
    EXPECT_EQ(row.status, RunStatus::kFailed) << row.name;
    EXPECT_CONTAINS(row.error, "No space left on device");
  }
  for (const auto& entry : fs::recursive_directory_iterator(after)) {
    const std::string name = entry.path().filename().string(), path = entry.path().string();
    EXPECT_FALSE(name.ends_with(".tmp")) << "half file left: " << path;
    if (name == "sweep.h5" || name == "sweep-run.h5") {
      EXPECT_NO_THROW(io::read_sweep_table(path)) << path;
    } else if ((name.starts_with("step-") && name.ends_with(".h5")) || name == "best.h5") {
      EXPECT_NO_THROW(io::read_checkpoint(path)) << path;
    }
  }
}

// jobs/sweep_bottleneck.ini as README runs it (shortened by flags): its [sweep] section gives the
// code widths, and a flag wins over the section.
TEST_F(SweepTest, TheBottleneckJobSweepsItsSectionsWidthsAndAFlagWins) {
  const std::string job = test::source_dir() + "/jobs/sweep_bottleneck.ini";
  const std::vector<std::string> short_run = {"--config",      job,   "--epochs",     "1",
                                              "--train-limit", "200", "--validation", "100",
                                              "--test-limit",  "100"};
  auto words = sweep("job", short_run);
  words.erase(std::find(words.begin(), words.end(), "--encoder"),
              std::find(words.begin(), words.end(), "--encoder") + 2);  // (the job's own)
  const auto result = run(2, words);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::vector<int64_t> widths;
  for (const SweepRow& r : table("job")) {
    widths.push_back(r.k);
    EXPECT_EQ(r.status, RunStatus::kDone);
    EXPECT_CONTAINS(r.config, "encoder = 784,512,256," + std::to_string(r.k) + "\n");
    EXPECT_CONTAINS(r.config, "activation = elu\n");
  }
  EXPECT_EQ(widths, (std::vector<int64_t>{1, 2, 3, 5, 10, 16, 32, 64}));
  words = sweep("flag", short_run);
  words.erase(std::find(words.begin(), words.end(), "--encoder"),
              std::find(words.begin(), words.end(), "--encoder") + 2);
  words.insert(words.end(), {"--dims", "3,7"});
  const auto flagged = run(2, words);
  ASSERT_EQ(flagged.exit_code, 0) << flagged.output;
  EXPECT_CONTAINS(flagged.output, "2 runs, 2 to train");
}

// "1,2,...,N"
std::string numbers(int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) text += (i > 1 ? "," : "") + std::to_string(i);
  return text;
}

TEST_F(SweepTest, BadInputIsRefusedBeforeAnyTraining) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--dims", "2", "--grid", "nosuch=1,2"},
       "--grid nosuch=1,2: 'nosuch' is not a train option a sweep can vary"},
      {{"--dims", "2", "--grid", "lr=0.001,abc"},
       "grid point k=2,lr=abc: --lr 'abc': expected a number"},
      {{}, "an empty grid: give --dims"},
      {{"--dims", "2,0"}, "--dims 2,0: '0' is not a positive whole number"},
      {{"--grid", "lr=0.1,0.1"}, "--grid lr=0.1,0.1: '0.1' is given twice"},
      {{"--grid", "out=a,b"}, "'out' is not a train option a sweep can vary"},
      {{"--grid", "lr=a b"}, "holds a space"},
      {{"--dims", "2", "--ranks-per-run", "2"},
       "--ranks-per-run 2 does not divide the job's 1 rank(s) into groups"},
      {{"--dims", "2", "--prune", "hyperband"}, "--prune 'hyperband': expected none or"},
      {{"--dims", "2", "--force"}, "--force: a sweep resumes its runs itself"},
      {{"--dims", "2", "--resume", "auto"}, "--resume: a sweep resumes its runs itself"},
      // (each axis 1..20: 20^4 = 160000 points, over the limit)
      {{"--dims", numbers(20), "--grid", "seed=" + numbers(20), "--grid", "epochs=" + numbers(20),
        "--grid", "batch-size=" + numbers(20)},
       "a grid of 160000 points: at most 100000"},
  };
  for (const auto& [extra, message] : cases) {
    const auto result = run(0, sweep("bad", extra));
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_CONTAINS(result.output, message);
    EXPECT_FALSE(fs::exists(root_ + "/bad/sweep.h5")) << result.output;
  }
  const auto three = run(3, sweep("bad", {"--dims", "2,3", "--ranks-per-run", "2"}));
  EXPECT_EQ(three.exit_code, 2) << three.output;
  EXPECT_CONTAINS(three.output, "--ranks-per-run 2 does not divide the job's 3 rank(s)");
  EXPECT_FALSE(fs::exists(root_ + "/bad/sweep.h5"));
}

TEST_F(SweepTest, AnotherConfigurationIsRefusedAndALargerGridTrainsOnlyItsNewPoints) {
  const auto first = run(0, sweep("s", {"--dims", "2", "--epochs", "1"}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const auto changed = run(0, sweep("s", {"--dims", "2", "--epochs", "1", "--lr", "0.002"}));
  EXPECT_EQ(changed.exit_code, 2) << changed.output;
  EXPECT_CONTAINS(changed.output, "run k=2 was trained in " + root_ + "/s/k=2-");
  EXPECT_CONTAINS(changed.output, "with another configuration (lr = 0.001 -> 0.002)");
  const auto larger = run(0, sweep("s", {"--dims", "2,3", "--epochs", "1"}));
  EXPECT_EQ(larger.exit_code, 0) << larger.output;
  EXPECT_CONTAINS(larger.output, "2 runs, 1 to train");
  EXPECT_CONTAINS(larger.output, "starts k=3 ");
  EXPECT_EQ(larger.output.find("starts k=2 "), std::string::npos) << larger.output;
}

}  // namespace
}  // namespace aeflow
