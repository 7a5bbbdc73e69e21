// The run directory's policy on plain files: names that sort by step, the listing, the latest
// link, the order --resume auto tries files in (also after a branch), and retention that deletes
// only the current trajectory's older files.
#include "aeflow/train/run_directory.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace aeflow::train {
namespace {

namespace fs = std::filesystem;

class RunDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("run-dir");
    run_ = RunDirectory(fs::path(root_) / "run");
    run_.create();
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }
  // A step file (its contents do not matter here), pointed at by latest.h5 like a checkpoint.
  fs::path write_step(int64_t step, bool latest = true) {
    const fs::path path = run_.step_path(step);
    std::ofstream(path) << step;
    if (latest) run_.point_latest(path);
    return path;
  }
  std::vector<std::string> names(const std::vector<fs::path>& paths) const {
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(p.filename().string());
    return out;
  }
  std::string root_;
  RunDirectory run_{""};
};

TEST_F(RunDirectoryTest, StepNamesSortByStep) {
  EXPECT_EQ(RunDirectory::step_name(42), "step-000000042.h5");
  EXPECT_EQ(RunDirectory::step_name(123456789), "step-123456789.h5");
  EXPECT_LT(RunDirectory::step_name(99), RunDirectory::step_name(100));
  EXPECT_EQ(run_.step_path(7).parent_path(), run_.checkpoints());
  EXPECT_EQ(run_.checkpoints(), run_.path() / "checkpoints");
}

TEST_F(RunDirectoryTest, ListsOnlyStepFilesOldestFirst) {
  EXPECT_FALSE(run_.has_checkpoints());
  write_step(300);
  write_step(20);
  std::ofstream(run_.checkpoints() / "step-notanumber.h5") << "x";
  std::ofstream(run_.checkpoints() / "step-000000005.h5.tmp") << "x";
  std::ofstream(run_.best_path()) << "best";
  EXPECT_TRUE(run_.has_checkpoints());
  EXPECT_EQ(names(run_.step_files()),
            (std::vector<std::string>{"step-000000020.h5", "step-000000300.h5"}));
}

TEST_F(RunDirectoryTest, LatestLinkIsReplacedAndRelative) {
  write_step(10);
  write_step(20);
  EXPECT_EQ(fs::read_symlink(run_.latest_path()), "step-000000020.h5");
  EXPECT_EQ(fs::canonical(run_.latest_path()), fs::canonical(run_.step_path(20)));
  EXPECT_FALSE(fs::exists(run_.checkpoints() / "latest.h5.tmp"));
  // Moving the run directory keeps the link good.
  const fs::path moved = fs::path(root_) / "moved";
  fs::rename(run_.path(), moved);
  EXPECT_TRUE(fs::exists(moved / "checkpoints" / "latest.h5"));
}

TEST_F(RunDirectoryTest, ResumeTriesLatestThenOlderThenNewer) {
  for (int64_t step : {10, 20, 30, 40}) write_step(step);
  EXPECT_EQ(names(run_.resume_candidates()),
            (std::vector<std::string>{"step-000000040.h5", "step-000000030.h5", "step-000000020.h5",
                                      "step-000000010.h5"}));
  // A branch: resumed from step 20, it wrote step 25 and latest points there. Its own older
  // files come before the newer files of the run it left.
  write_step(25);
  EXPECT_EQ(names(run_.resume_candidates()),
            (std::vector<std::string>{"step-000000025.h5", "step-000000020.h5", "step-000000010.h5",
                                      "step-000000040.h5", "step-000000030.h5"}));
  // latest.h5 pointing at a file that is gone: newest first.
  fs::remove(run_.step_path(25));
  EXPECT_EQ(names(run_.resume_candidates()).front(), "step-000000040.h5");
  EXPECT_EQ(run_.resume_candidates().size(), 4u);
}

TEST_F(RunDirectoryTest, RetentionDeletesOnlyThisTrajectorysOlderFiles) {
  for (int64_t step : {10, 20, 30, 40}) run_.retain(write_step(step), 2);
  EXPECT_EQ(names(run_.step_files()),
            (std::vector<std::string>{"step-000000030.h5", "step-000000040.h5"}));
  // A branch from step 30 writes 35: the newer step 40 of the run it left stays; of its own
  // trajectory (30, 35) both stay with keep 2, and with keep 1 only 35.
  run_.retain(write_step(35), 2);
  EXPECT_EQ(
      names(run_.step_files()),
      (std::vector<std::string>{"step-000000030.h5", "step-000000035.h5", "step-000000040.h5"}));
  run_.retain(run_.step_path(35), 1);
  EXPECT_EQ(names(run_.step_files()),
            (std::vector<std::string>{"step-000000035.h5", "step-000000040.h5"}));
  // keep 0 still keeps the newest.
  run_.retain(run_.step_path(35), 0);
  EXPECT_TRUE(fs::exists(run_.step_path(35)));
}

TEST_F(RunDirectoryTest, RemoveCheckpointsLeavesOtherFiles) {
  write_step(10);
  std::ofstream(run_.best_path()) << "best";
  run_.write_config("encoder = 784,32,8\n");
  std::ofstream(run_.checkpoints() / "notes.txt") << "mine";
  run_.remove_checkpoints();
  EXPECT_FALSE(run_.has_checkpoints());
  EXPECT_FALSE(fs::exists(run_.best_path()));
  EXPECT_FALSE(fs::is_symlink(run_.latest_path()));
  EXPECT_TRUE(fs::exists(run_.checkpoints() / "notes.txt"));
  std::ifstream config(run_.config_path());
  std::string line;
  std::getline(config, line);
  EXPECT_EQ(line, "encoder = 784,32,8");
  EXPECT_FALSE(fs::exists(run_.path() / "config.ini.tmp"));
}

}  // namespace
}  // namespace aeflow::train
