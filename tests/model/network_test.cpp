// Gradients of every layer kind against central finite differences, computed in double from the
// network's own float forward pass. Each layer's weight and bias are compared as blocks, by
// relative error: the first layers of a sigmoid net have gradients of ~1e-5 (rms), below any
// absolute tolerance loose enough for the output layer's, and an absolute test let a zeroed or
// doubled gradient there pass. CheckCatchesWrongGradients shows that wrong gradients fail.
#include "aeflow/model/network.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "aeflow/model/loss.hpp"

namespace aeflow::model {
namespace {

std::vector<float> random_input(int batch, int width, uint64_t seed) {
  RandomStream rng(seed, RandomPurpose::kTest);
  std::vector<float> x(size_t(batch) * width);
  for (float& v : x) v = rng.uniform();
  return x;
}

struct Case {
  const char* name;
  std::vector<int> encoder;
  std::optional<std::vector<int>> decoder = std::nullopt;  // hidden widths; unset: the mirror
  Activation hidden = Activation::kSigmoid;
  Activation code = Activation::kSigmoid;
  Activation output = Activation::kSigmoid;
  bool tied = false;
  LossKind loss = LossKind::kMse;
  float dropout = 0.0f;
  // Central differences over 2 points (error O(h^2)) or 4 (O(h^4)). The error floor is the
  // forward pass's float rounding divided by the step, so smooth nets take the 4-point rule with
  // a large step; ELU (whose second derivative jumps at 0) the 2-point rule.
  int points = 2;
  float step = 1e-2f;
  // ReLU and L1 have kinks. A step straddling one gives the average of two slopes, which is no
  // gradient: such parameters are detected and left out of the comparison (kink_free).
  bool kinks = false;
  double tolerance = 1e-3;  // on every block's relative error
};

ModelSpec spec_of(const Case& c) {
  ModelSpec spec;
  spec.encoder = c.encoder;
  spec.decoder = c.decoder;
  spec.hidden = c.hidden;
  spec.code = c.code;
  spec.output = c.output;
  spec.tied = c.tied;
  spec.dropout = c.dropout;
  return spec;
}

// A network, a batch and a loss. Every forward pass is a training one under the same dropout key,
// so the masks are the same in the analytic pass and in every finite-difference pass: the loss is
// then a deterministic function of the parameters that finite differences can probe.
class GradientProbe {
 public:
  static constexpr int kBatch = 5;
  static constexpr DropoutKey kKey{3, 17, 40};

  explicit GradientProbe(const Case& c)
      : loss_(c.loss),
        net_(spec_of(c), loss_.takes_logits()),
        x_(random_input(kBatch, c.encoder.front(), 3)) {
    net_.initialize(7);
  }

  Network& net() { return net_; }

  // The loss of the float forward pass, summed in double from the definitions. Not Loss::sum:
  // it accumulates in float, and that rounding made the differences of the smallest gradients 3
  // to 4 times noisier (sigmoid net, layer 0, step 1e-2: 2.0e-2 against 5.5e-3). Computed from
  // the definitions, it also checks Loss::gradient against them.
  double loss_value() {
    const float* out = net_.forward(x_.data(), kBatch, true, kKey);
    double total = 0;
    for (size_t k = 0; k < x_.size(); ++k) {
      const double o = out[k], t = x_[k];
      switch (loss_.kind()) {
        case LossKind::kMse:
        case LossKind::kRmse:
          total += (o - t) * (o - t);
          break;
        case LossKind::kL1:
          total += std::fabs(o - t);
          break;
        case LossKind::kBce:  // o is a logit: -t log s(o) - (1-t) log(1 - s(o))
          total += std::max(o, 0.0) - o * t + std::log1p(std::exp(-std::fabs(o)));
          break;
      }
    }
    const double mean = total / double(x_.size());
    return loss_.kind() == LossKind::kRmse ? std::sqrt(mean) : mean;
  }

  std::vector<float> analytic() {
    const float* out = net_.forward(x_.data(), kBatch, true, kKey);
    std::vector<float> diff(x_.size());
    loss_.gradient(out, x_.data(), x_.size(), loss_.sum(out, x_.data(), x_.size()),
                   double(x_.size()), diff.data());
    net_.backward(x_.data(), diff.data(), kBatch);
    return {net_.gradients().begin(), net_.gradients().end()};
  }

  struct Numeric {
    std::vector<double> gradient;
    // |f(p+h) - 2 f(p) + f(p-h)| / 2h: h |f''| / 2 where the loss is smooth over the step; where
    // the step straddles a kink, the 2-point rule's error (for straight pieces, exactly).
    std::vector<double> bend;
  };

  // Central differences for every parameter, the step relative to the parameter's magnitude.
  Numeric numeric(int points, float step) {
    auto params = net_.parameters();
    const double center = loss_value();
    Numeric result{std::vector<double>(params.size()), std::vector<double>(params.size())};
    for (size_t k = 0; k < params.size(); ++k) {
      const float saved = params[k];
      const float h = step * std::max(1.0f, std::fabs(saved));
      auto at = [&](float value) {
        params[k] = value;
        return loss_value();
      };
      // Divided by the distance the float parameter actually moved, not by 2h.
      const float up_at = saved + h, down_at = saved - h;
      const double up = at(up_at), down = at(down_at);
      const double near = (up - down) / (double(up_at) - double(down_at));
      if (points == 2) {
        result.gradient[k] = near;
      } else {
        const float far_up_at = saved + 2 * h, far_down_at = saved - 2 * h;
        const double far =
            (at(far_up_at) - at(far_down_at)) / (double(far_up_at) - double(far_down_at));
        result.gradient[k] = (4 * near - far) / 3;  // Richardson: the h^2 terms cancel
      }
      result.bend[k] = std::fabs(up - 2 * center + down) / (2 * double(h));
      params[k] = saved;
    }
    return result;
  }

  // Whether the training forward differs from the inference one: dropout did drop something.
  bool dropout_changes_output() {
    const float* out = net_.forward(x_.data(), kBatch, false);
    const std::vector<float> inference(out, out + x_.size());
    out = net_.forward(x_.data(), kBatch, true, kKey);
    return !std::equal(inference.begin(), inference.end(), out);
  }

 private:
  Loss loss_;
  Network net_;
  std::vector<float> x_;
};

// A layer's weight or bias, as a range of the flat buffers.
struct Block {
  size_t begin, size;
};

// Each layer's bias, and its weight unless it is tied: a tied decoder layer's weight is its
// encoder layer's block, whose gradient sums both uses of it.
std::vector<std::vector<Block>> blocks_of(const std::vector<LayerSpec>& layers) {
  std::vector<std::vector<Block>> blocks;
  for (const LayerSpec& layer : layers) {
    blocks.emplace_back();
    if (layer.tied_to < 0)
      blocks.back().push_back({layer.weight_offset, size_t(layer.in) * size_t(layer.out)});
    blocks.back().push_back({layer.bias_offset, size_t(layer.out)});
  }
  return blocks;
}

// ||analytic - numeric|| / ||numeric|| over one block. The floor only keeps a block without any
// gradient from dividing by zero; none of the cases here has one.
double relative_error(std::span<const float> analytic, std::span<const double> numeric) {
  double diff = 0, norm = 0;
  for (size_t k = 0; k < analytic.size(); ++k) {
    diff += (analytic[k] - numeric[k]) * (analytic[k] - numeric[k]);
    norm += numeric[k] * numeric[k];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

// Per layer, the worse of the relative errors of its weight block and its bias block.
std::vector<double> layer_errors(const std::vector<LayerSpec>& layers,
                                 std::span<const float> analytic, std::span<const double> numeric) {
  std::vector<double> errors;
  for (const auto& blocks : blocks_of(layers)) {
    double worst = 0;
    for (const Block& b : blocks)
      worst = std::max(worst, relative_error(analytic.subspan(b.begin, b.size),
                                             numeric.subspan(b.begin, b.size)));
    errors.push_back(worst);
  }
  return errors;
}

double worst_of(const std::vector<double>& errors) {
  return *std::max_element(errors.begin(), errors.end());
}

// Which parameters' 2-point stencils are free of kinks: those whose bend is small next to the
// block's rms gradient. Smooth, with h = 1e-3, bends measured at most 9e-3 of it; the one kink
// that step straddles gave 0.094 (larger steps straddle more, with bends up to 1.6). Decided
// from the numeric differences alone, so no analytic gradient, right or wrong, can move a
// parameter out of the comparison.
constexpr double kMaxSmoothBend = 3e-2;

std::vector<bool> kink_free(const std::vector<LayerSpec>& layers,
                            const GradientProbe::Numeric& numeric) {
  std::vector<bool> free(numeric.gradient.size(), true);
  for (const auto& blocks : blocks_of(layers))
    for (const Block& b : blocks) {
      double sum = 0;
      for (size_t k = b.begin; k < b.begin + b.size; ++k)
        sum += numeric.gradient[k] * numeric.gradient[k];
      const double rms = std::sqrt(sum / double(b.size));
      for (size_t k = b.begin; k < b.begin + b.size; ++k)
        free[k] = numeric.bend[k] <= kMaxSmoothBend * rms;
    }
  return free;
}

void check_gradients(const Case& c) {
  GradientProbe probe(c);
  if (c.dropout > 0) {
    EXPECT_TRUE(probe.dropout_changes_output()) << c.name << ": no unit dropped";
  }
  std::vector<float> analytic = probe.analytic();
  GradientProbe::Numeric numeric = probe.numeric(c.points, c.step);
  const auto& layers = probe.net().layers();
  if (c.kinks) {
    const std::vector<bool> free = kink_free(layers, numeric);
    size_t left_out = 0;
    for (size_t k = 0; k < free.size(); ++k)
      if (!free[k]) {  // out of both sides of the comparison
        analytic[k] = 0.0f;
        numeric.gradient[k] = 0.0;
        ++left_out;
      }
    EXPECT_LE(left_out, free.size() / 50) << c.name << ": too many kinks for this step";
  }
  const std::vector<double> errors = layer_errors(layers, analytic, numeric.gradient);
  for (size_t i = 0; i < errors.size(); ++i)
    EXPECT_LE(errors[i], c.tolerance) << c.name << " layer " << i;
}

using A = Activation;

// Measured worst layer errors (AVX2 oneDNN) are noted with each case: where they exceed ~3e-4,
// it is the float resolution of the loss at that step (smaller steps give larger errors).

// The sigmoid nets an absolute tolerance was too loose for; CheckCatchesWrongGradients corrupts
// their gradients. Measured: untied 3.9e-4 (layer 0, whose rms gradient is 2e-5), tied 1.8e-4.
// A step of 0.2 is large, but their loss is smooth, and the 4-point rule's error at 0.2 (up to
// 1.9e-4, the output layer) is below the float resolution at 0.1 (7.0e-4 untied, layer 0).
Case sigmoid_case(bool tied) {
  return {.name = tied ? "tied" : "sigmoid",
          .encoder = {12, 8, 3},
          .tied = tied,
          .points = 4,
          .step = 0.2f,
          .tolerance = tied ? 1e-3 : 2e-3};
}

TEST(NetworkGradients, SigmoidUntiedMse) {
  check_gradients(sigmoid_case(false));
}
TEST(NetworkGradients, ReluRmse) {  // measured 9.9e-4
  check_gradients({.name = "relu",
                   .encoder = {12, 8, 3},
                   .hidden = A::kRelu,
                   .code = A::kLinear,
                   .loss = LossKind::kRmse,
                   .step = 1e-3f,
                   .kinks = true,
                   .tolerance = 5e-3});
}
TEST(NetworkGradients, EluLinearOutputMse) {  // measured 1.9e-5
  check_gradients({.name = "elu",
                   .encoder = {12, 8, 3},
                   .hidden = A::kElu,
                   .code = A::kElu,
                   .output = A::kLinear,
                   .step = 3e-3f});
}
TEST(NetworkGradients, L1) {  // measured 3.8e-4
  check_gradients({.name = "l1",
                   .encoder = {12, 8, 3},
                   .hidden = A::kRelu,
                   .code = A::kRelu,
                   .loss = LossKind::kL1,
                   .step = 1e-3f,
                   .kinks = true,
                   .tolerance = 3e-3});
}
TEST(NetworkGradients, TanhLinearCodeMse) {  // measured 4.9e-6
  check_gradients({.name = "tanh",
                   .encoder = {12, 9, 6, 2},
                   .hidden = A::kTanh,
                   .code = A::kLinear,
                   .output = A::kLinear,
                   .points = 4,
                   .step = 3e-2f});
}
// SiLU and GELU: the backward reads the stored pre-activation, not the output.
TEST(NetworkGradients, SiluMse) {
  check_gradients({.name = "silu",
                   .encoder = {12, 8, 3},
                   .hidden = A::kSilu,
                   .code = A::kSilu,
                   .output = A::kLinear,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, GeluLinearCodeTiedBce) {
  check_gradients({.name = "gelu",
                   .encoder = {12, 9, 6, 2},
                   .hidden = A::kGelu,
                   .code = A::kLinear,
                   .tied = true,
                   .loss = LossKind::kBce,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, BceFromLogits) {  // measured 2.1e-5
  check_gradients({.name = "bce",
                   .encoder = {12, 5},
                   .hidden = A::kRelu,
                   .code = A::kRelu,
                   .loss = LossKind::kBce,
                   .step = 1e-3f,
                   .kinks = true});
}
TEST(NetworkGradients, TiedWeightsSumBothUses) {
  check_gradients(sigmoid_case(true));
}
TEST(NetworkGradients, TiedDeepRmse) {  // measured 5.3e-5
  check_gradients({.name = "tied-deep",
                   .encoder = {12, 10, 7, 2},
                   .hidden = A::kElu,
                   .code = A::kTanh,
                   .tied = true,
                   .loss = LossKind::kRmse});
}

// Decoders that do not mirror the encoder: deeper, shallower (the Keras 784-784-64-32-3
// tutorial's shape), none at all; with dropout on hidden layers of both halves.
TEST(NetworkGradients, DeeperDecoderTanhMse) {
  check_gradients({.name = "decoder-deeper",
                   .encoder = {12, 6, 2},
                   .decoder = std::vector<int>{5, 9, 7},
                   .hidden = A::kTanh,
                   .code = A::kLinear,
                   .output = A::kLinear,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, ShallowerDecoderTanhMse) {
  check_gradients({.name = "decoder-shallower",
                   .encoder = {12, 12, 8, 5, 3},
                   .decoder = std::vector<int>{5, 8},
                   .hidden = A::kTanh,
                   .code = A::kLinear,
                   .output = A::kLinear,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, NoDecoderHiddenLayerBce) {
  check_gradients({.name = "decoder-none",
                   .encoder = {12, 8, 3},
                   .decoder = std::vector<int>{},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .loss = LossKind::kBce,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, DropoutAsymmetricDecoder) {
  check_gradients({.name = "decoder-dropout",
                   .encoder = {12, 9, 3},
                   .decoder = std::vector<int>{4, 7},
                   .hidden = A::kTanh,
                   .code = A::kLinear,
                   .output = A::kLinear,
                   .dropout = 0.3f,
                   .points = 4,
                   .step = 3e-2f});
}

// Each output activation's derivative, behind tanh layers (whose gradients do not vanish).
TEST(NetworkGradients, ReluOutputMse) {  // measured 1.0e-4, one output bias left out (a kink)
  check_gradients({.name = "relu-output",
                   .encoder = {12, 8, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .output = A::kRelu,
                   .step = 1e-3f,
                   .kinks = true});
}
TEST(NetworkGradients, TanhOutputMse) {  // measured 2.9e-6
  check_gradients({.name = "tanh-output",
                   .encoder = {12, 8, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .output = A::kTanh,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, EluOutputMse) {  // measured 4.3e-5
  check_gradients({.name = "elu-output",
                   .encoder = {12, 8, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .output = A::kElu,
                   .step = 3e-3f});
}
TEST(NetworkGradients, LinearOutputMse) {  // measured 2.8e-6
  check_gradients({.name = "linear-output",
                   .encoder = {12, 8, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .output = A::kLinear,
                   .points = 4,
                   .step = 3e-2f});
}

TEST(NetworkGradients, TiedBceFromLogits) {  // measured 1.3e-4
  check_gradients({.name = "tied-bce",
                   .encoder = {12, 8, 3},
                   .tied = true,
                   .loss = LossKind::kBce,
                   .points = 4,
                   .step = 0.1f});
}
TEST(NetworkGradients, TiedL1) {  // measured 6.3e-4
  check_gradients({.name = "tied-l1",
                   .encoder = {12, 8, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .tied = true,
                   .loss = LossKind::kL1,
                   .step = 1e-3f,
                   .kinks = true,
                   .tolerance = 3e-3});
}

// Dropout on every hidden layer (two in a row on each side of 12-9-6-3-6-9-12), for each hidden
// activation: the masks scale what the next layer reads and, in backward, the gradient reaching
// the activation. Sigmoid is checked on 12-8-3: four sigmoid-sized derivatives in a row leave
// layer 0 gradients of ~6e-6 rms, too few float digits for finite differences (2e-3 at best).
TEST(NetworkGradients, DropoutSigmoidHidden) {  // measured 1.3e-4
  check_gradients({.name = "dropout-sigmoid",
                   .encoder = {12, 8, 3},
                   .code = A::kTanh,
                   .dropout = 0.3f,
                   .points = 4,
                   .step = 0.1f});
}
TEST(NetworkGradients, DropoutReluHidden) {  // measured 1.1e-3
  check_gradients({.name = "dropout-relu",
                   .encoder = {12, 9, 6, 3},
                   .hidden = A::kRelu,
                   .code = A::kTanh,
                   .dropout = 0.3f,
                   .step = 1e-3f,
                   .kinks = true,
                   .tolerance = 5e-3});
}
TEST(NetworkGradients, DropoutEluHidden) {  // measured 2.7e-4
  check_gradients({.name = "dropout-elu",
                   .encoder = {12, 9, 6, 3},
                   .hidden = A::kElu,
                   .code = A::kTanh,
                   .dropout = 0.3f,
                   .step = 3e-3f,
                   .tolerance = 2e-3});
}
TEST(NetworkGradients, DropoutTanhHidden) {  // measured 3.2e-5
  check_gradients({.name = "dropout-tanh",
                   .encoder = {12, 9, 6, 3},
                   .hidden = A::kTanh,
                   .code = A::kTanh,
                   .dropout = 0.3f,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, DropoutLinearHidden) {  // measured 1.7e-5
  check_gradients({.name = "dropout-linear",
                   .encoder = {12, 9, 6, 3},
                   .hidden = A::kLinear,
                   .code = A::kTanh,
                   .dropout = 0.3f,
                   .points = 4,
                   .step = 3e-2f});
}
TEST(NetworkGradients, DropoutTied) {  // measured 4.8e-4 (layer 0)
  check_gradients({.name = "dropout-tied",
                   .encoder = {12, 9, 6, 3},
                   .code = A::kTanh,
                   .tied = true,
                   .dropout = 0.3f,
                   .points = 4,
                   .step = 0.1f,
                   .tolerance = 2e-3});
}

// The parameters of an untied network computing the same function as TIED: the encoder's
// weights, their transposes as the decoder's, the same biases.
std::vector<float> untied_parameters(const Network& tied, const ModelSpec& untied_spec) {
  const auto from = tied.parameters();
  std::vector<float> to(untied_spec.parameter_count());
  const auto& tied_layers = tied.layers();
  const auto untied_layers = untied_spec.layers();
  for (size_t i = 0; i < untied_layers.size(); ++i) {
    const LayerSpec& source = tied_layers[i];
    const LayerSpec& target = untied_layers[i];
    std::copy_n(from.begin() + source.bias_offset, source.out, to.begin() + target.bias_offset);
    for (int r = 0; r < target.out; ++r)
      for (int c = 0; c < target.in; ++c)
        to[target.weight_offset + size_t(r) * target.in + c] =
            source.tied_to < 0 ? from[source.weight_offset + size_t(r) * source.in + c]
                               : from[source.weight_offset + size_t(c) * source.out + r];
  }
  return to;
}

// The comparison must fail every wrong gradient the audit found passing the absolute check:
// a zeroed or doubled block of the first layers of a sigmoid net, and a tied weight whose
// gradient lacks one of its two uses. Also a 1% error in any one block.
TEST(NetworkGradients, CheckCatchesWrongGradients) {
  for (bool tied : {false, true}) {
    const Case c = sigmoid_case(tied);
    GradientProbe probe(c);
    const std::vector<float> analytic = probe.analytic();
    const std::vector<double> numeric = probe.numeric(c.points, c.step).gradient;
    const auto& layers = probe.net().layers();
    ASSERT_LE(worst_of(layer_errors(layers, analytic, numeric)), c.tolerance)
        << c.name << ": the true gradient fails";

    const auto blocks = blocks_of(layers);
    for (size_t i = 0; i < blocks.size(); ++i)
      for (const Block& b : blocks[i])
        for (float factor : {0.0f, 2.0f, 1.01f}) {
          std::vector<float> wrong = analytic;
          for (size_t k = b.begin; k < b.begin + b.size; ++k) wrong[k] *= factor;
          EXPECT_GT(layer_errors(layers, wrong, numeric)[i], c.tolerance)
              << c.name << " layer " << i
              << (b.begin == layers[i].bias_offset ? " bias" : " weight") << " scaled by "
              << factor;
        }
    if (!tied) continue;

    // The two uses of each tied weight, from an untied twin on the same function: the twin's
    // encoder layer has the encoder use, its decoder layer (transposed) the decoder use.
    Case twin_case = c;
    twin_case.tied = false;
    GradientProbe twin(twin_case);
    const std::vector<float> twin_parameters = untied_parameters(probe.net(), spec_of(twin_case));
    std::copy(twin_parameters.begin(), twin_parameters.end(), twin.net().parameters().begin());
    const std::vector<float> uses = twin.analytic();
    const auto& twin_layers = twin.net().layers();
    const std::vector<double> tied_gradient(analytic.begin(), analytic.end());
    for (size_t j = 0; j < layers.size(); ++j) {
      const int owner = layers[j].tied_to;  // the encoder layer whose block holds the weight
      if (owner < 0) continue;
      const LayerSpec& encoder = twin_layers[owner];
      const LayerSpec& decoder = twin_layers[j];
      const size_t block = layers[owner].weight_offset;  // in the tied buffers
      std::vector<float> sum_of_uses = analytic, encoder_use_only = analytic,
                         decoder_use_only = analytic;
      for (int r = 0; r < encoder.out; ++r)
        for (int col = 0; col < encoder.in; ++col) {
          const size_t k = block + size_t(r) * encoder.in + col;
          const float encoder_use = uses[encoder.weight_offset + size_t(r) * encoder.in + col];
          const float decoder_use = uses[decoder.weight_offset + size_t(col) * decoder.in + r];
          sum_of_uses[k] = encoder_use + decoder_use;
          encoder_use_only[k] = encoder_use;
          decoder_use_only[k] = decoder_use;
        }
      // The decomposition is right: the two uses add up to the tied gradient, to float rounding
      // (measured 2e-8 and 5e-8: the twin's matmuls read plain, not transposed, views).
      const size_t n = size_t(encoder.in) * size_t(encoder.out);
      EXPECT_LT(relative_error(std::span(sum_of_uses).subspan(block, n),
                               std::span(tied_gradient).subspan(block, n)),
                1e-5);
      // Measured 0.17 (layer 1's weight) and 7.4e-3 (layer 0's: its encoder use is small).
      EXPECT_GT(layer_errors(layers, decoder_use_only, numeric)[owner], c.tolerance)
          << "layer " << owner << "'s weight without its encoder use";
      EXPECT_GT(layer_errors(layers, encoder_use_only, numeric)[owner], c.tolerance)
          << "layer " << owner << "'s weight without its decoder use";
    }
  }
}

// bf16 mixed precision: the matmuls read bf16 copies (8 significant bits) and accumulate in
// f32, so outputs and gradients are close to f32's, not equal. Checked against the f32 network
// on the same parameters and batch: relative L2 error of the reconstruction and of each layer's
// gradient, untied and tied. Skipped on CPUs without a bf16 matmul.
TEST(NetworkBf16, OutputsAndGradientsTrackFp32) {
  for (bool tied : {false, true}) {
    ModelSpec spec;
    spec.encoder = {784, 64, 16};
    spec.tied = tied;
    const Loss loss(LossKind::kMse);
    Network exact(spec, false), half(spec, false);
    try {
      half.set_precision(Precision::kBf16);
    } catch (const InputError& error) {
      GTEST_SKIP() << error.what();
    }
    exact.initialize(5);
    std::copy(exact.parameters().begin(), exact.parameters().end(), half.parameters().begin());
    const int batch = 32;
    const auto x = random_input(batch, spec.input_width(), 9);
    std::vector<float> diff(x.size());
    auto relative_error = [](std::span<const float> a, std::span<const float> b) {
      double num = 0, den = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        num += (double(a[k]) - b[k]) * (double(a[k]) - b[k]);
        den += double(b[k]) * b[k];
      }
      return std::sqrt(num / den);
    };
    std::vector<std::vector<float>> outputs, gradients;
    for (Network* net : {&exact, &half}) {
      const float* out = net->forward(x.data(), batch, true);
      outputs.emplace_back(out, out + x.size());
      loss.gradient(out, x.data(), x.size(), 0, double(x.size()), diff.data());
      net->backward(x.data(), diff.data(), batch);
      gradients.emplace_back(net->gradients().begin(), net->gradients().end());
    }
    EXPECT_LT(relative_error(outputs[1], outputs[0]), 2e-3) << "tied " << tied;  // measured 2.5e-4
    EXPECT_GT(relative_error(outputs[1], outputs[0]), 0.0) << "bf16 did not run";
    for (const LayerSpec& layer : exact.layers()) {
      if (layer.tied_to >= 0) continue;
      const size_t n = size_t(layer.in) * size_t(layer.out);
      EXPECT_LT(relative_error(std::span(gradients[1]).subspan(layer.weight_offset, n),
                               std::span(gradients[0]).subspan(layer.weight_offset, n)),
                1e-2)  // measured 1.3e-3 to 2.2e-3
          << "tied " << tied << " weight at " << layer.weight_offset;
    }
  }
  EXPECT_THROW(parse_precision("fp16"), InputError);
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
}

// A bf16 copy the caller keeps (use_bf16_copy) is what the matmuls read: forward no longer
// converts, so parameters changed without refresh_bf16_copy go unseen, and once refreshed the
// output is the bits of a network converting on every forward. Skipped without a bf16 matmul.
TEST(NetworkBf16, AKeptCopyIsWhatTheMatmulsRead) {
  ModelSpec spec;
  spec.encoder = {784, 64, 16};
  Network net(spec, false);
  try {
    net.set_precision(Precision::kBf16);
  } catch (const InputError& error) {
    GTEST_SKIP() << error.what();
  }
  net.initialize(5);
  const int batch = 8;
  const auto x = random_input(batch, spec.input_width(), 9);
  auto output = [&] {
    const float* out = net.forward(x.data(), batch, false);
    return std::vector<float>(out, out + x.size());
  };
  const std::vector<float> converted = output();
  net.use_bf16_copy(net.own_bf16_copy());
  net.refresh_bf16_copy(0, net.parameters().size());
  EXPECT_EQ(output(), converted);
  for (float& p : net.parameters()) p *= 1.5f;  // not refreshed: unseen
  EXPECT_EQ(output(), converted);
  net.refresh_bf16_copy(0, net.parameters().size());
  const std::vector<float> refreshed = output();
  EXPECT_NE(refreshed, converted);
  net.use_bf16_copy({});  // converting on every forward again
  EXPECT_EQ(output(), refreshed);
  std::vector<uint16_t> wrong_size(10);
  EXPECT_THROW(net.use_bf16_copy(wrong_size), RunError);
  Network exact(spec, false);
  EXPECT_THROW(exact.use_bf16_copy(net.own_bf16_copy()), RunError);
}

TEST(Network, TiedSpecHasNoDecoderWeights) {
  ModelSpec spec;
  spec.encoder = {784, 128, 10};
  spec.tied = true;
  EXPECT_EQ(spec.parameter_count(), size_t(784 * 128 + 128 + 128 * 10 + 10 + 128 + 784));
  spec.tied = false;
  EXPECT_EQ(spec.parameter_count(), size_t(2 * (784 * 128 + 128 * 10) + 128 + 10 + 128 + 784));
}

TEST(Network, AnAsymmetricDecoderHasItsOwnLayersAndDecodesFromTheCode) {
  ModelSpec spec;
  spec.encoder = {784, 784, 64, 32, 3};
  spec.decoder = std::vector<int>{32, 64};
  const std::vector<LayerSpec> layers = spec.layers();
  ASSERT_EQ(layers.size(), size_t(7));
  const std::vector<std::pair<int, int>> shapes = {{784, 784}, {784, 64}, {64, 32}, {32, 3},
                                                   {3, 32},    {32, 64},  {64, 784}};
  for (size_t i = 0; i < layers.size(); ++i)
    EXPECT_EQ(std::pair(layers[i].in, layers[i].out), shapes[i]) << "layer " << i;
  EXPECT_EQ(layers[3].activation, spec.code);
  EXPECT_EQ(layers[6].activation, spec.output);
  EXPECT_EQ(spec.parameter_count(), size_t(784 * 784 + 784 + 784 * 64 + 64 + 64 * 32 + 32 + 32 * 3 +
                                           3 + 3 * 32 + 32 + 32 * 64 + 64 + 64 * 784 + 784));
  // decode(encode(x)) is the training forward pass's reconstruction.
  Network net(spec, /*output_logits=*/false);
  net.initialize(5);
  const std::vector<float> x = random_input(2, 784, 9);
  std::vector<float> code(2 * 3), decoded(2 * 784);
  net.encode(x.data(), 2, code.data());
  net.decode(code.data(), 2, decoded.data());
  const float* forward = net.forward(x.data(), 2, false);
  EXPECT_EQ(decoded, std::vector<float>(forward, forward + 2 * 784));
}

TEST(Network, DropoutIsOffAtInferenceAndKeyedByRow) {
  ModelSpec spec;
  spec.encoder = {12, 8, 3};
  spec.dropout = 0.5f;
  Network net(spec, false);
  net.initialize(1);
  const auto x = random_input(4, 12, 5);
  const std::vector<float> a(net.forward(x.data(), 4, false), net.forward(x.data(), 4, false) + 48);
  const std::vector<float> b(net.forward(x.data(), 4, false), net.forward(x.data(), 4, false) + 48);
  EXPECT_EQ(a, b);
  // Rows 2..3 of a batch starting at global row 0 equal rows 0..1 of one starting at row 2: the
  // same units dropped. (Up to the last bits: oneDNN's AVX2 sgemm sums a row differently for 4
  // rows than for 2; a unit dropped in one and not the other differs in the leading digits.)
  const float* full = net.forward(x.data(), 4, true, {9, 1, 0});
  const std::vector<float> whole(full, full + 48);
  const float* half = net.forward(x.data() + 24, 2, true, {9, 1, 2});
  for (int k = 0; k < 24; ++k) EXPECT_FLOAT_EQ(whole[24 + k], half[k]);
  EXPECT_NE(std::vector<float>(whole.begin(), whole.begin() + 24),
            a.size() ? std::vector<float>(a.begin(), a.begin() + 24) : a);
}

}  // namespace
}  // namespace aeflow::model
