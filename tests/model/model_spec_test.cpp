// ModelSpec's comparisons: == over every field, same_network over what a checkpoint's
// parameters mean (layers, activations, tied weights), not dropout or initialization.
#include "aeflow/model/model_spec.hpp"

#include <gtest/gtest.h>

namespace aeflow::model {
namespace {

TEST(ModelSpec, EqualityIsEveryFieldAndSameNetworkLeavesOutTrainingSettings) {
  ModelSpec a;
  a.encoder = {784, 64, 8};
  ModelSpec b = a;
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.same_network(b));
  b.dropout = 0.3f;
  b.init = parse_init("truncated_normal", 0.05f, 0.1f);
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.same_network(b));
  EXPECT_TRUE(b.same_network(a));
  for (auto change : {+[](ModelSpec& s) {
                        s.encoder = {784, 64, 9};
                      },
                      +[](ModelSpec& s) { s.hidden = Activation::kRelu; },
                      +[](ModelSpec& s) { s.code = Activation::kLinear; },
                      +[](ModelSpec& s) { s.output = Activation::kTanh; },
                      +[](ModelSpec& s) { s.tied = true; }}) {
    ModelSpec other = a;
    change(other);
    EXPECT_NE(a, other);
    EXPECT_FALSE(a.same_network(other)) << other.describe();
  }
}

}  // namespace
}  // namespace aeflow::model
