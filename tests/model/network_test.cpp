// Gradients of every layer kind against central finite differences, computed in double from the
// network's own float forward pass.
#include "aeflow/model/network.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "aeflow/model/loss.hpp"

namespace aeflow::model {
namespace {

struct Case {
  const char* name;
  std::vector<int> encoder;
  Activation hidden, code, output;
  bool tied;
  LossKind loss;
  float step = 1e-2f;  // finite-difference step; small for L1, whose kinks a large step crosses
};

std::vector<float> random_input(int batch, int width, uint64_t seed) {
  RandomStream rng(seed, RandomPurpose::kTest);
  std::vector<float> x(size_t(batch) * width);
  for (float& v : x) v = rng.uniform();
  return x;
}

double loss_of(Network& net, const Loss& loss, const std::vector<float>& x, int batch) {
  const float* out = net.forward(x.data(), batch, false);
  const double count = double(x.size());
  return loss.value(loss.sum(out, x.data(), x.size()), count);
}

void check_gradients(const Case& c) {
  ModelSpec spec;
  spec.encoder = c.encoder;
  spec.hidden = c.hidden;
  spec.code = c.code;
  spec.output = c.output;
  spec.tied = c.tied;
  const Loss loss(c.loss);
  Network net(spec, loss.takes_logits());
  net.initialize(7);
  const int batch = 5;
  const auto x = random_input(batch, spec.input_width(), 3);

  const float* out = net.forward(x.data(), batch, true);
  const double total = loss.sum(out, x.data(), x.size());
  std::vector<float> diff(x.size());
  loss.gradient(out, x.data(), x.size(), total, double(x.size()), diff.data());
  net.backward(x.data(), diff.data(), batch);
  const std::vector<float> analytic(net.gradients().begin(), net.gradients().end());

  // Probe a spread of parameters: every layer's weights and biases get several.
  auto params = net.parameters();
  int checked = 0;
  for (size_t k = 0; k < params.size(); k += std::max<size_t>(1, params.size() / 97)) {
    const float saved = params[k];
    const float h = c.step * std::max(1.0f, std::fabs(saved));
    params[k] = saved + h;
    const double up = loss_of(net, loss, x, batch);
    params[k] = saved - h;
    const double down = loss_of(net, loss, x, batch);
    params[k] = saved;
    const double numeric = (up - down) / (double(params[k] + h) - double(params[k] - h));
    const double tolerance = 2e-3 * std::max(1.0, std::fabs(numeric)) + 2e-4;
    EXPECT_NEAR(analytic[k], numeric, tolerance) << c.name << " parameter " << k;
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

TEST(NetworkGradients, SigmoidUntiedMse) {
  check_gradients({"sigmoid",
                   {12, 8, 3},
                   Activation::kSigmoid,
                   Activation::kSigmoid,
                   Activation::kSigmoid,
                   false,
                   LossKind::kMse});
}
TEST(NetworkGradients, ReluRmse) {
  check_gradients({"relu",
                   {12, 8, 3},
                   Activation::kRelu,
                   Activation::kLinear,
                   Activation::kSigmoid,
                   false,
                   LossKind::kRmse});
}
TEST(NetworkGradients, EluLinearOutputMse) {
  check_gradients({"elu",
                   {12, 8, 3},
                   Activation::kElu,
                   Activation::kElu,
                   Activation::kLinear,
                   false,
                   LossKind::kMse});
}
TEST(NetworkGradients, L1) {
  check_gradients({"l1",
                   {12, 8, 3},
                   Activation::kRelu,
                   Activation::kRelu,
                   Activation::kSigmoid,
                   false,
                   LossKind::kL1,
                   1e-3f});
}
TEST(NetworkGradients, TanhLinearCodeMse) {
  check_gradients({"tanh",
                   {12, 9, 6, 2},
                   Activation::kTanh,
                   Activation::kLinear,
                   Activation::kLinear,
                   false,
                   LossKind::kMse});
}
TEST(NetworkGradients, BceFromLogits) {
  check_gradients({"bce",
                   {12, 5},
                   Activation::kRelu,
                   Activation::kRelu,
                   Activation::kSigmoid,
                   false,
                   LossKind::kBce});
}
TEST(NetworkGradients, TiedWeightsSumBothUses) {
  check_gradients({"tied",
                   {12, 8, 3},
                   Activation::kSigmoid,
                   Activation::kSigmoid,
                   Activation::kSigmoid,
                   true,
                   LossKind::kMse});
}
TEST(NetworkGradients, TiedDeepRmse) {
  check_gradients({"tied-deep",
                   {12, 10, 7, 2},
                   Activation::kElu,
                   Activation::kTanh,
                   Activation::kSigmoid,
                   true,
                   LossKind::kRmse});
}

// With dropout, the masks are fixed by the key, so training-mode forward passes with one key
// are a deterministic function of the parameters that finite differences can probe.
TEST(NetworkGradients, DropoutMasksGradients) {
  ModelSpec spec;
  spec.encoder = {12, 9, 6, 3};
  spec.dropout = 0.3f;
  const Loss loss(LossKind::kMse);
  Network net(spec, false);
  net.initialize(11);
  const int batch = 4;
  const auto x = random_input(batch, 12, 8);
  const DropoutKey key{3, 17, 40};
  auto loss_at = [&] {
    const float* out = net.forward(x.data(), batch, true, key);
    return loss.value(loss.sum(out, x.data(), x.size()), double(x.size()));
  };
  const float* out = net.forward(x.data(), batch, true, key);
  std::vector<float> diff(x.size());
  loss.gradient(out, x.data(), x.size(), loss.sum(out, x.data(), x.size()), double(x.size()),
                diff.data());
  net.backward(x.data(), diff.data(), batch);
  const std::vector<float> analytic(net.gradients().begin(), net.gradients().end());
  auto params = net.parameters();
  int zero_rows_seen = 0;
  for (size_t k = 0; k < params.size(); k += 3) {
    const float saved = params[k];
    params[k] = saved + 1e-2f;
    const double up = loss_at();
    params[k] = saved - 1e-2f;
    const double down = loss_at();
    params[k] = saved;
    const double numeric = (up - down) / 2e-2;
    EXPECT_NEAR(analytic[k], numeric, 2e-3 * std::max(1.0, std::fabs(numeric)) + 2e-4) << k;
    zero_rows_seen += analytic[k] == 0.0f;
  }
  EXPECT_GT(zero_rows_seen, 0);  // some units were dropped: their weights got no gradient
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

TEST(Network, TiedSpecHasNoDecoderWeights) {
  ModelSpec spec;
  spec.encoder = {784, 128, 10};
  spec.tied = true;
  EXPECT_EQ(spec.parameter_count(), size_t(784 * 128 + 128 + 128 * 10 + 10 + 128 + 784));
  spec.tied = false;
  EXPECT_EQ(spec.parameter_count(), size_t(2 * (784 * 128 + 128 * 10) + 128 + 10 + 128 + 784));
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
