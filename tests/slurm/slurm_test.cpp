// The job scripts in slurm/ under a real Slurm controller: slurm/local-cluster.sh brings up
// munged, slurmctld and two slurmd nodes in network namespaces of their own (so a job that spans
// them crosses a network, OpenMPI over TCP), and the tests submit with sbatch as a user would.
// A 2-node training job has the bits of the same job under mpirun outside Slurm, also when it is
// requeued mid-run; a sweep in one allocation spans both nodes and gives the table that a job
// array of its runs (submit-sweep.sh) gives; a 2-node encode writes the file one rank writes; a job
// given bad input ends FAILED with aeflow's exit code 2 and its message in the job's output.
// Reports skipped where the cluster cannot start (not root, no namespaces, slurm-wlm or munge
// missing).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/hdf5.hpp"
#include "aeflow/io/sweep_table.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

struct JobEnd {
  std::string state;      // COMPLETED, FAILED, ...
  std::string exit_code;  // "2:0"
};

// The base states a job ends in (https://slurm.schedmd.com/job_state_codes.html).
const std::set<std::string> kEndStates = {"BOOT_FAIL",     "CANCELLED", "COMPLETED",
                                          "DEADLINE",      "FAILED",    "NODE_FAIL",
                                          "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT"};

class SlurmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) AEFLOW_SKIP_OR_REQUIRE("needs root to create network namespaces");
    for (const char* tool : {"sbatch", "slurmctld", "slurmd", "munged"})
      if (test::run_command(std::string("command -v ") + tool).exit_code != 0)
        AEFLOW_SKIP_OR_REQUIRE(tool << " is missing (Debian's slurm-wlm and munge)");
    turn_ = std::make_unique<test::TestHostsTurn>();  // (held until TearDown)
    root_ = test::make_temp_dir("slurm");
    cluster_ = root_ + "/cluster";
    script_ = test::source_dir() + "/slurm/local-cluster.sh";
    // (MaxArraySize 2: a grid of 3 runs is split into two arrays)
    const auto up = test::run_command("AEFLOW_MAX_ARRAY_SIZE=2 " + script_ + " up 2 " + cluster_);
    if (up.exit_code != 0) AEFLOW_SKIP_OR_REQUIRE("the cluster did not start: " << up.output);
    data_ = test::write_synthetic_mnist(root_ + "/data", 1100, 200);
    job_ = root_ + "/tiny.ini";
    test::write_file(job_, bytes("encoder = 784,32,8\nbatch-size = 64\nepochs = 2\n"
                                 "validation = 100\ntest-limit = 200\nseed = 3\n"));
  }
  void TearDown() override {
    if (!cluster_.empty()) test::run_command(script_ + " down " + cluster_);
    turn_.reset();
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  static std::vector<uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

  // A shell command in the cluster's environment (SLURM_CONF, OpenMPI on the test network),
  // with the aeflow binary and the data the scripts take from AEFLOW and AEFLOW_DATA.
  test::CommandResult shell(const std::string& command) {
    return test::run_command(". " + cluster_ + "/env.sh && export AEFLOW=" + test::aeflow_binary() +
                             " AEFLOW_DATA=" + data_ + " && cd " + root_ + " && " + command);
  }
  // sbatch WORDS; the job id.
  std::string submit(const std::string& words) {
    const auto result = shell("sbatch --parsable " + words);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return result.output.substr(0, result.output.find_first_of(";\n"));
  }
  // Waits up to 5 minutes for job ID to end. A requeued job waits two minutes before Slurm may
  // start it again (its BeginTime); the test starts it after 3 s instead (not at once: a
  // credential made in the second the old one was revoked is refused, and the job FAILS).
  JobEnd wait_for_job(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    bool held = false;  // waiting for its BeginTime, since HELD_SINCE
    auto held_since = std::chrono::steady_clock::now();
    std::smatch state, code;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string shown = shell("scontrol show job " + id).output;
      const auto now = std::chrono::steady_clock::now();
      if (shown.find("JobState=PENDING Reason=BeginTime") == std::string::npos) {
        held = false;
      } else if (!held) {
        held = true;
        held_since = now;
      } else if (now - held_since > std::chrono::seconds(3)) {
        shell("scontrol update JobId=" + id + " StartTime=now");
        held = false;
      }
      // Only a base state that ends a job counts: scontrol shows a flag in place of the base
      // state while it is set (SIGNALING while the warning signal is on its way, REQUEUED,
      // COMPLETING, ...), and those pass.
      if (std::regex_search(shown, state, std::regex("JobState=([A-Z_]+)")) &&
          std::regex_search(shown, code, std::regex("ExitCode=([0-9]+:[0-9]+)")) &&
          kEndStates.contains(state[1].str()))
        return {state[1], code[1]};
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "job " << id << " did not end:\n" << shell("scontrol show job " + id).output;
    return {};
  }
  static std::vector<float> parameters(const std::string& path) {
    std::vector<float> out;
    for (const auto& array : io::read_checkpoint(path).parameters)
      out.insert(out.end(), array.values.begin(), array.values.end());
    return out;
  }

  std::unique_ptr<test::TestHostsTurn> turn_;
  std::string root_, cluster_, script_, data_, job_;
};

TEST_F(SlurmTest, ATwoNodeTrainingJobHasTheBitsOfMpirunOutsideSlurm) {
  // (--grad-sync fused: the one mode that is the same sum on one node and across two)
  const auto outside = test::run_command(
      "timeout 300 mpirun -n 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 " +
      test::aeflow_binary() + " train --config " + job_ + " --data " + data_ + " --out " + root_ +
      "/outside --grad-sync fused");
  ASSERT_EQ(outside.exit_code, 0) << outside.output;
  const std::string id =
      submit("-N 2 --ntasks-per-node=1 -o " + root_ + "/train-%j.out " + test::source_dir() +
             "/slurm/train.sbatch " + job_ + " " + root_ + "/inside --grad-sync fused");
  const JobEnd end = wait_for_job(id);
  const std::string output = test::read_text(root_ + "/train-" + id + ".out");
  EXPECT_EQ(end.state, "COMPLETED") << output;
  EXPECT_EQ(end.exit_code, "0:0") << output;
  EXPECT_CONTAINS(output, "on 2 rank(s)");
  const std::string nodes = shell("scontrol show job " + id).output;
  EXPECT_CONTAINS(nodes, "NodeList=aefh[1-2]");
  EXPECT_EQ(parameters(root_ + "/inside/checkpoints/latest.h5"),
            parameters(root_ + "/outside/checkpoints/latest.h5"));
}

// The same grid two ways: sweep.sbatch in one 2-node allocation, and submit-sweep.sh (a job
// array of one-node tasks, split in two by MaxArraySize 2, and the summary after them). Both
// tables hold every run, with the same results (every run on one rank either way).
TEST_F(SlurmTest, ASweepInOneAllocationAndAsAJobArrayGiveTheSameTable) {
  const std::string one =
      submit("-N 2 --ntasks-per-node=1 -o " + root_ + "/sweep-%j.out " + test::source_dir() +
             "/slurm/sweep.sbatch " + job_ + " " + root_ + "/one --dims 2,3,4");
  const auto submitted = shell(test::source_dir() + "/slurm/submit-sweep.sh " + job_ + " " + root_ +
                               "/array --dims 2,3,4");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  std::smatch ids;
  ASSERT_TRUE(std::regex_match(submitted.output, ids, std::regex("([0-9]+) ([0-9]+) ([0-9]+)\n")))
      << submitted.output;
  const JobEnd one_end = wait_for_job(one);
  const std::string output = test::read_text(root_ + "/sweep-" + one + ".out");
  EXPECT_EQ(one_end.state, "COMPLETED") << output;
  EXPECT_EQ(one_end.exit_code, "0:0") << output;
  EXPECT_CONTAINS(output, "3 runs, 3 to train, on 2 group(s) of 1 rank(s)");
  const JobEnd summary_end = wait_for_job(ids[3]);
  const std::string summary =
      test::read_text(root_ + "/aeflow-sweep-summary-" + std::string(ids[3]) + ".out");
  EXPECT_EQ(summary_end.state, "COMPLETED") << summary;
  EXPECT_EQ(summary_end.exit_code, "0:0") << summary;
  EXPECT_CONTAINS(summary, "wrote " + root_ + "/array/sweep.h5");
  // The arrays run slurm/sweep-array.sbatch, the summary slurm/sweep-summary.sbatch.
  for (const int array : {1, 2})
    EXPECT_CONTAINS(shell("scontrol show job " + std::string(ids[size_t(array)])).output,
                    "Command=" + test::source_dir() + "/slurm/sweep-array.sbatch");
  EXPECT_CONTAINS(shell("scontrol show job " + std::string(ids[3])).output,
                  "Command=" + test::source_dir() + "/slurm/sweep-summary.sbatch");
  for (const char* task : {"_0.out", "_1.out"})  // (the first array: runs 0 and 1)
    EXPECT_TRUE(fs::exists(root_ + "/aeflow-sweep-task-" + std::string(ids[1]) + task));
  EXPECT_TRUE(fs::exists(root_ + "/aeflow-sweep-task-" + std::string(ids[2]) + "_0.out"));

  const std::vector<io::SweepRow> a = io::read_sweep_table(root_ + "/one/sweep.h5");
  const std::vector<io::SweepRow> b = io::read_sweep_table(root_ + "/array/sweep.h5");
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].status, io::RunStatus::kDone) << a[i].name;
    EXPECT_EQ(b[i].status, io::RunStatus::kDone) << b[i].name;
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].test_rmse, b[i].test_rmse) << a[i].name;
    EXPECT_EQ(a[i].val_loss, b[i].val_loss) << a[i].name;
  }
}

// `scontrol requeue` in the middle of a 2-node job: Slurm's SIGTERM makes every rank checkpoint,
// the requeued job resumes it (--resume auto) and ends COMPLETED, with the bits of a job that
// ran through.
TEST_F(SlurmTest, ARequeuedJobResumesAndEndsWithTheBitsOfAnUninterruptedOne) {
  // 40 epochs of 16 steps: the requeue after the first leaves most of the run to the second leg.
  const std::string options = " --grad-sync fused --epochs 40";
  const auto outside = test::run_command(
      "timeout 300 mpirun -n 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 " +
      test::aeflow_binary() + " train --config " + job_ + " --data " + data_ + " --out " + root_ +
      "/outside" + options);
  ASSERT_EQ(outside.exit_code, 0) << outside.output;
  const std::string id =
      submit("-N 2 --ntasks-per-node=1 -o " + root_ + "/requeue-%j.out " + test::source_dir() +
             "/slurm/train.sbatch " + job_ + " " + root_ + "/inside" + options);
  const std::string log = root_ + "/requeue-" + id + ".out";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (test::read_text(log).find("epoch 1/40") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(test::read_text(log).find("epoch 1/40"), std::string::npos) << test::read_text(log);
  ASSERT_NE(shell("scontrol show job " + id).output.find("JobState=RUNNING"), std::string::npos);
  ASSERT_EQ(shell("scontrol requeue " + id).exit_code, 0);
  const JobEnd end = wait_for_job(id);
  const std::string output = test::read_text(log);
  EXPECT_EQ(end.state, "COMPLETED") << output;
  EXPECT_EQ(end.exit_code, "0:0") << output;
  EXPECT_CONTAINS(shell("scontrol show job " + id).output, "Restarts=1");
  EXPECT_CONTAINS(output, "stopped by signal 15 after step");
  EXPECT_CONTAINS(output, "resumed " + root_ + "/inside/checkpoints/step-");
  EXPECT_EQ(parameters(root_ + "/inside/checkpoints/latest.h5"),
            parameters(root_ + "/outside/checkpoints/latest.h5"));
}

// encode.sbatch on two nodes writes one file together (parallel HDF5 across the nodes): every
// dataset of it equals a one-rank encode's.
TEST_F(SlurmTest, ATwoNodeEncodeWritesTheFileOneRankWrites) {
  const auto trained = test::run_command(test::aeflow_binary() + " train --config " + job_ +
                                         " --data " + data_ + " --out " + root_ + "/model");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const std::string checkpoint = root_ + "/model/checkpoints/latest.h5";
  const auto one =
      test::run_command(test::aeflow_binary() + " encode --checkpoint " + checkpoint + " --data " +
                        data_ + " --chunk 256 --out " + root_ + "/one.h5");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const std::string id =
      submit("-N 2 --ntasks-per-node=1 -o " + root_ + "/encode-%j.out " + test::source_dir() +
             "/slurm/encode.sbatch " + checkpoint + " " + root_ + "/two.h5 --chunk 256");
  const JobEnd end = wait_for_job(id);
  const std::string output = test::read_text(root_ + "/encode-" + id + ".out");
  EXPECT_EQ(end.state, "COMPLETED") << output;
  EXPECT_EQ(end.exit_code, "0:0") << output;
  const io::h5::File a = io::h5::File::open(root_ + "/one.h5");
  const io::h5::File b = io::h5::File::open(root_ + "/two.h5");
  EXPECT_CONTAINS(output, " on 2 ranks in ");
  EXPECT_CONTAINS(shell("scontrol show job " + id).output, "NodeList=aefh[1-2]");
  for (const char* split : {"train", "test"}) {
    for (const char* name : {"latent", "index"}) {
      const std::string path = std::string(split) + "/" + name;
      EXPECT_EQ(a.read_dataset<double>(path), b.read_dataset<double>(path)) << path;
    }
    const std::string labels = std::string(split) + "/label";
    EXPECT_EQ(a.read_dataset<int64_t>(labels), b.read_dataset<int64_t>(labels)) << labels;
  }
}

// A job that reaches its time limit: Slurm's warning signal (--signal=B:USR1@50 with a limit of
// one minute comes at slurmctld's first check of limits, within 30 s) makes every rank
// checkpoint, the script requeues the job, and the requeued job resumes. The run (10^8 steps) is
// longer than any leg, so every leg ends by the signal, whatever the machine's speed: with
// AEFLOW_MAX_REQUEUE=1 the second leg ends with exit 3 and the script says why it does not
// requeue again.
TEST_F(SlurmTest, AJobAtItsTimeLimitCheckpointsRequeuesAndResumes) {
  const std::string id =
      submit("-N 2 --ntasks-per-node=1 --time=1 --signal=B:USR1@50 -o " + root_ +
             "/limit-%j.out --export=ALL,AEFLOW_MAX_REQUEUE=1 " + test::source_dir() +
             "/slurm/train.sbatch " + job_ + " " + root_ + "/limit --steps 100000000");
  const JobEnd end = wait_for_job(id);
  const std::string output = test::read_text(root_ + "/limit-" + id + ".out");
  EXPECT_EQ(end.state, "FAILED") << output;
  EXPECT_EQ(end.exit_code, "3:0") << output;
  EXPECT_CONTAINS(shell("scontrol show job " + id).output, "Restarts=1");
  EXPECT_CONTAINS(output, "aeflow: time limit or preemption: asking the ranks to checkpoint");
  EXPECT_CONTAINS(output, "requeueing job " + id);
  std::smatch first;
  ASSERT_TRUE(
      std::regex_search(output, first, std::regex("stopped by signal 10 after step ([0-9]+);")))
      << output;
  EXPECT_CONTAINS(output, "resumed " + root_ + "/limit/checkpoints/step-");
  EXPECT_CONTAINS(output, " at epoch ");
  EXPECT_CONTAINS(output,
                  "aeflow: job " + id + " was requeued 1 times (AEFLOW_MAX_REQUEUE): not again");
  // The second leg went on from the first leg's checkpoint and wrote its own.
  EXPECT_GT(io::read_checkpoint(root_ + "/limit/checkpoints/latest.h5").state.global_step,
            std::stoll(first[1]));
}

TEST_F(SlurmTest, AJobGivenBadInputEndsFailedWithExitCode2AndTheMessage) {
  const std::string id =
      submit("-N 1 -o " + root_ + "/bad-%j.out " + test::source_dir() + "/slurm/train.sbatch " +
             job_ + " " + root_ + "/bad --encoder 784,abc");
  const JobEnd end = wait_for_job(id);
  const std::string output = test::read_text(root_ + "/bad-" + id + ".out");
  EXPECT_EQ(end.state, "FAILED") << output;
  EXPECT_EQ(end.exit_code, "2:0") << output;
  EXPECT_CONTAINS(output, "aeflow: error: --encoder '784,abc'");
}

}  // namespace
}  // namespace aeflow
