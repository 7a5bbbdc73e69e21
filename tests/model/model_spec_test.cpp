// ModelSpec's comparisons: == over every field, same_network over what a checkpoint's
// parameters mean (layers, activations, tied weights), not dropout or initialization.
#include "aeflow/model/model_spec.hpp"

#include <gtest/gtest.h>

#include "aeflow/base/error.hpp"
#include "test_support.hpp"

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
  for (auto change :
       {+[](ModelSpec& s) {
          s.encoder = {784, 64, 9};
        },
        +[](ModelSpec& s) { s.hidden = Activation::kRelu; },
        +[](ModelSpec& s) { s.code = Activation::kLinear; },
        +[](ModelSpec& s) { s.output = Activation::kTanh; }, +[](ModelSpec& s) { s.tied = true; },
        +[](ModelSpec& s) {
          s.decoder = std::vector<int>{64, 64};
        }}) {
    ModelSpec other = a;
    change(other);
    EXPECT_NE(a, other);
    EXPECT_FALSE(a.same_network(other)) << other.describe();
  }
}

TEST(ModelSpec, ADecoderGivenAsTheMirrorIsTheSameNetworkAsOneLeftUnset) {
  ModelSpec a;
  a.encoder = {784, 128, 32, 8};
  ModelSpec b = a;
  b.decoder = std::vector<int>{32, 128};
  EXPECT_NE(a, b);  // (as given)
  EXPECT_TRUE(a.same_network(b));
  EXPECT_TRUE(b.decoder_mirrors());
  EXPECT_EQ(a.decoder_widths(), (std::vector<int>{8, 32, 128, 784}));
  EXPECT_EQ(a.describe(), b.describe());
  b.decoder = std::vector<int>{};
  EXPECT_FALSE(a.same_network(b));
  EXPECT_EQ(b.decoder_widths(), (std::vector<int>{8, 784}));
  EXPECT_EQ(b.layer_count(), 4);
  EXPECT_CONTAINS(b.describe(), "784-128-32-8-784 ");
}

TEST(ModelSpec, DecoderOptionParsesMirrorNoneAndWidths) {
  EXPECT_EQ(parse_decoder("mirror"), std::nullopt);
  EXPECT_EQ(parse_decoder("none"), std::vector<int>{});
  EXPECT_EQ(parse_decoder("32,64"), (std::vector<int>{32, 64}));
  EXPECT_EQ(format_decoder(std::nullopt), "mirror");
  EXPECT_EQ(format_decoder(std::vector<int>{}), "none");
  EXPECT_EQ(format_decoder(std::vector<int>{32, 64}), "32,64");
  for (const char* bad : {"", "32,,64", "32,-1", "0", "mirror,32", "32;64"}) {
    try {
      parse_decoder(bad);
      ADD_FAILURE() << "'" << bad << "' was accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()),
                std::string("--decoder '") + bad +
                    "': expected comma-separated positive widths, e.g. 32,64 (hidden widths, "
                    "code side first), or mirror, or none");
    }
  }
}

TEST(ModelSpec, TiedWeightsNeedTheMirroredDecoder) {
  ModelSpec spec;
  spec.encoder = {784, 784, 64, 32, 3};
  spec.tied = true;
  spec.decoder = std::vector<int>{32, 64, 784};  // the mirror, given
  EXPECT_NO_THROW(spec.validate());
  spec.decoder = std::vector<int>{32, 64};
  try {
    spec.validate();
    ADD_FAILURE() << "a tied model with decoder 32,64 was accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              "--tied uses each encoder weight transposed in the decoder, so the decoder must "
              "mirror the encoder: --decoder 32,64 gives 3,32,64,784, the mirror is --decoder "
              "32,64,784 (or leave --decoder out)");
  }
  spec.tied = false;
  EXPECT_NO_THROW(spec.validate());
  spec.decoder = std::vector<int>{32, 0};
  EXPECT_THROW(spec.validate(), InputError);
}

}  // namespace
}  // namespace aeflow::model
