// kNN in code space on hand-placed 1-D and 2-D codes: the majority of the k nearest wins, a tie
// in votes goes to the nearest tied label, and a query can leave its own reference out.
#include "aeflow/eval/knn.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aeflow::eval {
namespace {

uint8_t predict_one(const KnnClassifier& knn, std::vector<float> code, size_t exclude = SIZE_MAX) {
  uint8_t out = 255;
  knn.predict(code.data(), 1, exclude == SIZE_MAX ? nullptr : &exclude, &out);
  return out;
}

TEST(KnnTest, MajorityOfTheNearestWins) {
  const KnnClassifier knn({0, 1, 2, 10, 11}, {0, 0, 1, 1, 1}, 1, 3);
  EXPECT_EQ(predict_one(knn, {0.5f}), 0);   // 0, 1, 2: labels 0, 0, 1
  EXPECT_EQ(predict_one(knn, {10.4f}), 1);  // 10, 11, 2
  EXPECT_EQ(predict_one(knn, {6.2f}), 1);   // 10, 11, 2
}

TEST(KnnTest, TiedVotesGoToTheNearestLabel) {
  const KnnClassifier knn({0, 1}, {3, 5}, 1, 2);
  EXPECT_EQ(predict_one(knn, {0.4f}), 3);
  EXPECT_EQ(predict_one(knn, {0.6f}), 5);
}

TEST(KnnTest, ExcludesTheQuerysOwnReference) {
  const KnnClassifier knn({0, 0, 1, 1, 5, 5}, {7, 8, 9}, 2, 1);  // (0,0) (1,1) (5,5)
  EXPECT_EQ(predict_one(knn, {0, 0}), 7);
  EXPECT_EQ(predict_one(knn, {0, 0}, 0), 8);  // (1, 1) is the nearest left
}

TEST(KnnTest, BlocksOfQueriesAndTilesOfReferencesAgreeWithOneByOne) {
  // More queries and references than one block / tile holds.
  std::vector<float> reference, queries;
  std::vector<uint8_t> labels;
  for (size_t j = 0; j < 5000; ++j) {
    reference.push_back(float(j % 97) * 0.37f);
    reference.push_back(float(j % 89) * 0.11f);
    labels.push_back(uint8_t(j % 7));
  }
  for (size_t i = 0; i < 300; ++i) {
    queries.push_back(float(i % 53) * 0.61f + 0.01f);
    queries.push_back(float(i % 31) * 0.29f + 0.02f);
  }
  const KnnClassifier knn(reference, labels, 2, 5);
  std::vector<uint8_t> together(300);
  knn.predict(queries.data(), 300, nullptr, together.data());
  for (size_t i = 0; i < 300; ++i)
    EXPECT_EQ(together[i], predict_one(knn, {queries[2 * i], queries[2 * i + 1]})) << i;
}

}  // namespace
}  // namespace aeflow::eval
