// Successive halving as a sweep applies it: rungs at FIRST x ETA^i, a run kept only while it is
// among the best 1/ETA (at least one) of its k at the rung, code widths never compared, a
// resumed run counted once, and the records shared through the file.
#include "aeflow/sweep/pruner.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "test_support.hpp"

namespace aeflow::sweep {
namespace {

TEST(PrunerTest, RungsAreFirstTimesPowersOfEta) {
  const Pruner pruner(test::make_temp_dir("pruner") + "/rungs.tsv", 2, 3);
  std::vector<int64_t> rungs;
  for (int64_t epoch = 0; epoch <= 60; ++epoch)
    if (pruner.is_rung(epoch)) rungs.push_back(epoch);
  EXPECT_EQ(rungs, (std::vector<int64_t>{2, 6, 18, 54}));
  EXPECT_FALSE(Pruner("/unused", 0, 3).is_rung(1));  // no pruning
}

TEST(PrunerTest, ARunGoesOnOnlyAmongTheBestThirdOfItsK) {
  const std::string records = test::make_temp_dir("pruner") + "/rungs.tsv";
  const Pruner pruner(records, 1, 3);
  // The first to arrive always goes on (asynchronous: no waiting for the rung to fill).
  EXPECT_FALSE(pruner.cut("k=2,lr=a", 2, 1, 0.50));
  EXPECT_TRUE(pruner.cut("k=2,lr=b", 2, 1, 0.60));   // 2 there: keeps 1, the 0.50
  EXPECT_FALSE(pruner.cut("k=2,lr=c", 2, 1, 0.40));  // the best so far
  EXPECT_TRUE(pruner.cut("k=2,lr=d", 2, 1, 0.45));   // 4 there: keeps 1
  EXPECT_TRUE(pruner.cut("k=2,lr=e", 2, 1, 0.55));   // 5 there: keeps 1
  EXPECT_FALSE(pruner.cut("k=2,lr=f", 2, 1, 0.41));  // 6 there: keeps 2 (0.40, 0.41)
  // Another k is judged apart, and another rung too.
  EXPECT_FALSE(pruner.cut("k=3,lr=b", 3, 1, 0.90));
  EXPECT_FALSE(pruner.cut("k=2,lr=a", 2, 3, 0.30));
  // A NaN loss is the worst there is, and it is recorded as such.
  EXPECT_TRUE(pruner.cut("k=2,lr=g", 2, 1, std::nan("")));
  EXPECT_NE(test::read_text(records).find("k=2,lr=g\t2\t1\tinf\n"), std::string::npos)
      << test::read_text(records);
  // A new pruner over the same file sees every record (another group, a re-run): 8 runs there
  // now (g's inf among them), so the best 2 are kept: 0.40 and 0.41, and 0.42 is cut.
  const Pruner again(records, 1, 3);
  EXPECT_TRUE(again.cut("k=2,lr=h", 2, 1, 0.42));
  // A 9th run keeps 3 (0.40, 0.41 and itself at 0.415) only because g's line was read back: with
  // 8 runs it would keep 2 and cut it.
  EXPECT_FALSE(again.cut("k=2,lr=j", 2, 1, 0.415));
}

TEST(PrunerTest, AResumedRunIsCountedOnceWithItsLatestLoss) {
  const std::string records = test::make_temp_dir("pruner") + "/rungs.tsv";
  const Pruner pruner(records, 1, 2);
  EXPECT_FALSE(pruner.cut("a", 2, 1, 0.5));
  EXPECT_TRUE(pruner.cut("b", 2, 1, 0.6));
  // b again (resumed): still two runs at the rung, not three, so one is kept, and b is not it.
  EXPECT_TRUE(pruner.cut("b", 2, 1, 0.6));
  // Better this time: it is the one kept.
  EXPECT_FALSE(pruner.cut("b", 2, 1, 0.4));
}

}  // namespace
}  // namespace aeflow::sweep
