// kill -9 at any moment: a 2-rank `aeflow train` killed (every rank and mpiexec at once) again
// and again at random moments, many of them inside checkpoint writes (an epoch of four steps, a
// checkpoint after each), each time resumed with --resume auto, ends with the bits of a run that
// was never killed; after every kill every file under a real name opens and validates. And an
// `aeflow encode` killed while it writes leaves the old output whole and no half file under the
// real name.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/hdf5.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

class KillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("kill");
    data_ = test::write_synthetic_mnist(root_ + "/data", 600, 200);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }

  // `aeflow train` of the test's tiny long run into OUT, resuming what is there.
  std::vector<std::string> train(const std::string& out) const {
    return {test::aeflow_binary(), "train",    "--data",       data_, "--out",        out,
            "--encoder",           "784,32,8", "--batch-size", "16",  "--validation", "100",
            "--train-limit",       "64",       "--test-limit", "100", "--epochs",     "150",
            "--keep-checkpoints",  "2",        "--seed",       "3",   "--resume",     "auto"};
  }

  // Every file under a real name in OUT opens and reads whole.
  static void expect_whole_files(const std::string& out) {
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
      const std::string name = entry.path().filename().string(), path = entry.path().string();
      if (name.ends_with(".tmp") || entry.is_directory()) continue;  // (debris a write leaves)
      if (name.ends_with(".h5") && path.find("/checkpoints/") != std::string::npos) {
        EXPECT_NO_THROW(io::read_checkpoint(path)) << path;
      } else if (name == "metrics.h5") {
        EXPECT_NO_THROW(io::h5::File::open(path).open_group("summary")) << path;
      } else if (name == "config.ini") {
        EXPECT_CONTAINS(test::read_text(path), "encoder = 784,32,8\n");
      }
    }
  }

  std::string root_, data_;
};

std::vector<uint32_t> bits(const io::CheckpointData& checkpoint) {
  std::vector<uint32_t> out;
  for (const auto* arrays : {&checkpoint.parameters, &checkpoint.optimizer_state})
    for (const io::NamedArray& array : *arrays)
      for (float value : array.values) {
        uint32_t word;
        std::memcpy(&word, &value, sizeof word);
        out.push_back(word);
      }
  return out;
}

TEST_F(KillTest, TrainingKilledAtRandomMomentsEndsWithTheBitsOfOneNeverKilled) {
  std::string whole_command = "timeout 300 mpiexec --oversubscribe --bind-to none -n 2";
  for (const std::string& word : train(root_ + "/whole")) whole_command += " '" + word + "'";
  const auto started = std::chrono::steady_clock::now();
  const auto whole = test::run_command(whole_command);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // Each leg trains at most a twentieth of the whole run (start-up counted in), so a dozen kills
  // come before the end on any machine.
  const auto whole_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  const int most_ms = std::max<int>(30, int(whole_ms / 20));

  const std::string out = root_ + "/killed";
  std::string command;
  for (const std::string& word : train(out)) command += " '" + word + "'";
  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE("kill moments drawn with seed " + std::to_string(seed));
  int kills = 0, legs = 0, code = -1;
  while (code != 0 && legs < 40) {
    ++legs;
    const std::string log = root_ + "/leg" + std::to_string(legs) + ".log";
    for (const char* rank : {"0", "1"}) fs::remove(root_ + "/pid." + rank);
    const pid_t pid =
        test::spawn({"mpiexec", "-n", "2", "--oversubscribe", "--bind-to", "none", "sh", "-c",
                     "echo $$ > " + root_ + "/pid.$OMPI_COMM_WORLD_RANK; exec" + command},
                    log);
    ASSERT_GT(pid, 0);
    if (kills >= 12) {  // enough: let it finish
      code = test::wait_for(pid, 300);
      EXPECT_EQ(code, 0) << test::read_text(log);
      break;
    }
    // Training has begun (or the run is already finished), then a random moment within it.
    test::wait_for_text(pid, log, "aeflow train:");
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, most_ms)(random)));
    for (const char* rank : {"0", "1"}) {
      const std::string pid_file = root_ + "/pid." + rank;
      if (fs::exists(pid_file)) kill(pid_t(std::stol(test::read_text(pid_file))), SIGKILL);
    }
    kill(pid, SIGKILL);
    code = test::wait_for(pid, 60);
    if (code != 0) ++kills;
    expect_whole_files(out);
  }
  EXPECT_GE(kills, 10) << "the run ended before 10 kills";
  EXPECT_EQ(code, 0);
  const io::CheckpointData a = io::read_checkpoint(root_ + "/whole/checkpoints/latest.h5");
  const io::CheckpointData b = io::read_checkpoint(out + "/checkpoints/latest.h5");
  EXPECT_EQ(b.state.global_step, a.state.global_step);
  EXPECT_EQ(b.state.epoch, 150);
  EXPECT_TRUE(bits(a) == bits(b)) << "after " << kills << " kills the parameters differ";
  // The training animation and the losses of every epoch too.
  EXPECT_EQ(b.snapshots, a.snapshots);
  ASSERT_EQ(b.history.size(), a.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(b.history[i].step, a.history[i].step);
    EXPECT_EQ(b.history[i].train_loss, a.history[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(b.history[i].val_loss, a.history[i].val_loss) << "epoch " << i + 1;
  }
  test::record_count("train_kills_injected", kills);
  if (!HasFailure()) test::record_count("train_kills_survived", kills);
}

// encode writes NAME.tmp and renames it whole: killed while NAME.tmp is being written (a --force
// rewrite), the file under the real name is the old one, whole.
TEST_F(KillTest, EncodeKilledMidWriteLeavesTheOldOutputWhole) {
  const std::string model = root_ + "/model.h5", codes = root_ + "/codes.h5";
  test::write_initialized_checkpoint(model, {784, 32, 4}, 7);
  // (enough images that the write takes a while: the kills below land inside it)
  const std::string data = test::write_synthetic_mnist(root_ + "/big", 30000, 1000);
  const std::string encode = test::aeflow_binary() + " encode --checkpoint " + model + " --data " +
                             data + " --chunk 256 --deflate 9 --threads 1 --out " + codes;
  const auto first = test::run_command(encode);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const std::vector<float> old = io::h5::File::open(codes).read_dataset<float>("train/latent");
  std::mt19937 random(std::random_device{}());
  int kills = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    fs::remove(codes + ".tmp");
    const pid_t pid =
        test::spawn({"sh", "-c", "exec " + encode + " --force"}, root_ + "/encode.log");
    ASSERT_GT(pid, 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!fs::exists(codes + ".tmp") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 60)(random)));
    kill(pid, SIGKILL);
    kills += test::wait_for(pid, 60) == 128 + SIGKILL;
    // Either the old file or a whole new one (same model: the same codes) under the real name.
    EXPECT_EQ(io::h5::File::open(codes).read_dataset<float>("train/latent"), old);
  }
  EXPECT_GE(kills, 8) << "the encode ended before its kill: make its input larger";
  test::record_count("encode_kills_injected", kills);
  if (!HasFailure()) test::record_count("encode_kills_survived", kills);
}

}  // namespace
}  // namespace aeflow
