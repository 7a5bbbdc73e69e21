// A sweep's runs: readable names, run directory names that stay inside the sweep directory
// whatever a grid value holds, a configuration hash that ignores where the run is written and
// how many threads it uses but nothing else, the difference between two configurations in
// words, and the longest runs handed out first.
#include "aeflow/sweep/sweep_plan.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace aeflow::sweep {
namespace {

namespace fs = std::filesystem;

TEST(SweepPlanTest, RunNamesListTheSettingsInGridOrder) {
  EXPECT_EQ(run_name({{"k", "10"}, {"lr", "0.003"}}), "k=10,lr=0.003");
  EXPECT_EQ(run_name({{"k", "2"}}), "k=2");
}

TEST(SweepPlanTest, DirectoryNamesNeverLeaveTheirParent) {
  const std::string hash = "0123456789abcdef";
  EXPECT_EQ(directory_name("k=10,lr=0.003", hash), "k=10,lr=0.003-" + hash);
  const fs::path parent = "/sweep";
  for (const std::string& name : std::vector<std::string>{
           "..", ".", "../../etc/passwd", "data=/tmp/x", "a/../../b", std::string(300, '.'),
           "k=1,init=\xc3\xa9\xff", "x\\y", "~root", "$(rm -rf /)", ""}) {
    const std::string dir = directory_name(name, hash);
    EXPECT_EQ(dir.find('/'), std::string::npos) << dir;
    EXPECT_NE(dir, "..");
    EXPECT_NE(dir, ".");
    EXPECT_LE(dir.size(), 80u + 1 + hash.size());
    EXPECT_TRUE(dir.ends_with("-" + hash)) << dir;
    EXPECT_EQ((parent / dir).lexically_normal().parent_path(), parent) << dir;
    for (char c : dir)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) ||
                  std::string(".,=+-_").find(c) != std::string::npos)
          << dir;
  }
  // Names that the replacement makes alike stay apart by their hashes.
  EXPECT_NE(directory_name("data=a/b", config_hash("data = a/b\n")),
            directory_name("data=a_b", config_hash("data = a_b\n")));
}

TEST(SweepPlanTest, TheHashIgnoresOutAndThreadsOnly) {
  const std::string base = "# aeflow\ndata = d\nout = runs/a\nthreads = 0\nlr = 0.001\n";
  const std::string hash = config_hash(base);
  EXPECT_EQ(hash.size(), 16u);
  EXPECT_EQ(config_hash("# other comment\ndata = d\nout = runs/b\nthreads = 4\nlr = 0.001\n"),
            hash);
  EXPECT_NE(config_hash("data = d\nout = runs/a\nthreads = 0\nlr = 0.002\n"), hash);
  EXPECT_NE(config_hash("data = e\nout = runs/a\nthreads = 0\nlr = 0.001\n"), hash);
  EXPECT_NE(config_hash(base + "seed = 2\n"), hash);
}

// An option added after the first sweeps, at its default, is the configuration from before it:
// a sweep directory written then keeps its run names and is not retrained.
TEST(SweepPlanTest, AnOptionAddedLaterAtItsDefaultChangesNothing) {
  const std::string before = "data = d\nencoder = 784,64,8\nlr = 0.001\n";
  const std::string now =
      "data = d\nencoder = 784,64,8\ndecoder = mirror\nlr = 0.001\nweight-decay = 0\n";
  EXPECT_EQ(config_hash(now), config_hash(before));
  EXPECT_EQ(config_difference(before, now), "");
  const std::string other = "data = d\nencoder = 784,64,8\ndecoder = 32\nlr = 0.001\n";
  EXPECT_NE(config_hash(other), config_hash(before));
  EXPECT_EQ(config_difference(before, other), "decoder = (unset) -> 32");
  EXPECT_EQ(config_difference(before, before + "weight-decay = 0.01\n"),
            "weight-decay = (unset) -> 0.01");
}

TEST(SweepPlanTest, TheDifferenceNamesEveryChangedSetting) {
  EXPECT_EQ(config_difference("lr = 0.001\nout = a\nseed = 1\n", "lr = 0.003\nout = b\nseed = 1\n"),
            "lr = 0.001 -> 0.003");
  EXPECT_EQ(config_difference("lr = 1\n", "lr = 1\nnoise = 0.3\n"), "noise = (unset) -> 0.3");
  EXPECT_EQ(config_difference("a = 1\nb = 2\n", "a = 3\nb = 4\n"), "a = 1 -> 3; b = 2 -> 4");
  EXPECT_EQ(config_difference("lr = 1\n", "lr = 1\n"), "");
}

TEST(SweepPlanTest, TheMostExpensiveRunsComeFirstTiesInGridOrder) {
  std::vector<PlannedRun> runs(5);
  const double costs[] = {10, 40, 10, 40, 20};
  for (size_t i = 0; i < runs.size(); ++i) runs[i].cost = costs[i];
  EXPECT_EQ(longest_first(runs), (std::vector<size_t>{1, 3, 4, 0, 2}));
}

}  // namespace
}  // namespace aeflow::sweep
