// Loss values and gradients on tiny hand-made vectors (mse, rmse, l1, bce from logits, which must
// stay finite for large |z|), and the data-parallel contract: shards that use the GLOBAL sum and
// count produce loss gradients, and network gradients, that add up to the whole batch's.
#include "aeflow/model/loss.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "aeflow/model/network.hpp"

namespace aeflow::model {
namespace {

// Errors (output - target) of (0.5, 0, 0.5, -0.5).
const std::vector<float> kOutput{0.5f, 0.0f, 1.0f, 0.25f};
const std::vector<float> kTarget{0.0f, 0.0f, 0.5f, 0.75f};

std::vector<float> gradient(const Loss& loss, const std::vector<float>& out,
                            const std::vector<float>& target) {
  std::vector<float> diff(out.size(), -99.0f);
  const double sum = loss.sum(out.data(), target.data(), out.size());
  loss.gradient(out.data(), target.data(), out.size(), sum, double(out.size()), diff.data());
  return diff;
}

TEST(Loss, MseIsMeanSquaredError) {
  const Loss loss(LossKind::kMse);
  const double sum = loss.sum(kOutput.data(), kTarget.data(), 4);
  EXPECT_DOUBLE_EQ(sum, 0.75);                   // 0.25 + 0 + 0.25 + 0.25
  EXPECT_DOUBLE_EQ(loss.value(sum, 4), 0.1875);  // 0.75 / 4
  // d/do mean((o-t)^2) = 2 (o-t) / N
  const auto d = gradient(loss, kOutput, kTarget);
  EXPECT_FLOAT_EQ(d[0], 0.25f);
  EXPECT_FLOAT_EQ(d[1], 0.0f);
  EXPECT_FLOAT_EQ(d[2], 0.25f);
  EXPECT_FLOAT_EQ(d[3], -0.25f);
}

TEST(Loss, RmseIsRootOfMeanSquaredError) {
  const Loss loss(LossKind::kRmse);
  const double sum = loss.sum(kOutput.data(), kTarget.data(), 4);
  EXPECT_DOUBLE_EQ(sum, 0.75);
  EXPECT_NEAR(loss.value(sum, 4), std::sqrt(0.1875), 1e-15);
  // d sqrt(m) = (o-t) / (N rmse) = (o-t) / (4 * 0.4330127)
  const auto d = gradient(loss, kOutput, kTarget);
  const double scale = 1.0 / (4 * std::sqrt(0.1875));
  EXPECT_FLOAT_EQ(d[0], float(0.5 * scale));
  EXPECT_FLOAT_EQ(d[1], 0.0f);
  EXPECT_FLOAT_EQ(d[3], float(-0.5 * scale));
}

TEST(Loss, RmseGradientOfAnExactFitIsZeroNotNan) {
  const Loss loss(LossKind::kRmse);
  const auto d = gradient(loss, kTarget, kTarget);
  for (float v : d) EXPECT_EQ(v, 0.0f);
  EXPECT_EQ(loss.value(0.0, 4), 0.0);
}

TEST(Loss, L1IsMeanAbsoluteError) {
  const Loss loss(LossKind::kL1);
  const double sum = loss.sum(kOutput.data(), kTarget.data(), 4);
  EXPECT_DOUBLE_EQ(sum, 1.5);
  EXPECT_DOUBLE_EQ(loss.value(sum, 4), 0.375);
  // sign(o-t) / N, and 0 where o == t
  const auto d = gradient(loss, kOutput, kTarget);
  EXPECT_FLOAT_EQ(d[0], 0.25f);
  EXPECT_EQ(d[1], 0.0f);
  EXPECT_FLOAT_EQ(d[2], 0.25f);
  EXPECT_FLOAT_EQ(d[3], -0.25f);
  EXPECT_EQ(to_string(parse_loss("mae")), "l1");
}

TEST(Loss, BceFromLogitsMatchesCrossEntropyOfSigmoid) {
  const Loss loss(LossKind::kBce);
  EXPECT_TRUE(loss.takes_logits());
  EXPECT_FALSE(Loss(LossKind::kMse).takes_logits());
  const std::vector<float> z{0.0f, 2.0f, -3.0f, 1.0f};
  const std::vector<float> t{0.5f, 1.0f, 0.0f, 0.25f};
  double expected = 0;
  for (size_t k = 0; k < z.size(); ++k) {
    const double s = 1 / (1 + std::exp(-double(z[k])));
    expected += -t[k] * std::log(s) - (1 - t[k]) * std::log(1 - s);
  }
  // Terms are float (vectorized), chunks are summed in double: float's relative precision.
  const double sum = loss.sum(z.data(), t.data(), z.size());
  EXPECT_NEAR(sum, expected, 2e-7 * expected);
  // By hand: log 2 + log(1 + e^-2) + log(1 + e^-3) + (1 - 0.25 + log(1 + e^-1))
  EXPECT_NEAR(sum, 0.693147181 + 0.126928011 + 0.048587352 + 0.75 + 0.313261687, 2e-7 * sum);
  EXPECT_NEAR(loss.value(sum, 4), expected / 4, 2e-7 * expected);
  // d/dz = (sigmoid(z) - t) / N
  const auto d = gradient(loss, z, t);
  EXPECT_FLOAT_EQ(d[0], 0.0f);
  EXPECT_NEAR(d[1], (1 / (1 + std::exp(-2.0)) - 1) / 4, 1e-7);  // float sigmoid - 1 cancels
  EXPECT_FLOAT_EQ(d[2], float((1 / (1 + std::exp(3.0))) / 4));
}

TEST(Loss, BceStaysFiniteForLargeLogits) {
  const Loss loss(LossKind::kBce);
  const std::vector<float> z{1000.0f, -1000.0f, 1000.0f, -1000.0f, 88.0f, -104.0f};
  const std::vector<float> t{1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 0.0f};
  // Right and confident: ~0; wrong and confident: |z|.
  std::vector<double> terms;
  for (size_t k = 0; k < z.size(); ++k) terms.push_back(loss.sum(&z[k], &t[k], 1));
  EXPECT_NEAR(terms[0], 0.0, 1e-300);
  EXPECT_NEAR(terms[1], 0.0, 1e-300);
  EXPECT_DOUBLE_EQ(terms[2], 1000.0);
  EXPECT_DOUBLE_EQ(terms[3], 1000.0);
  for (double v : terms) EXPECT_TRUE(std::isfinite(v));
  const auto d = gradient(loss, z, t);
  const float n = float(z.size());
  EXPECT_FLOAT_EQ(d[0], 0.0f);
  EXPECT_FLOAT_EQ(d[1], 0.0f);
  EXPECT_FLOAT_EQ(d[2], 1.0f / n);
  EXPECT_FLOAT_EQ(d[3], -1.0f / n);
  for (float v : d) EXPECT_TRUE(std::isfinite(v));
  // The same logits 8 times over, through the kernels' full vector loops (AVX2, AVX-512), not
  // only their short tails: a reciprocal estimate there gave NaN for 1 / (1 + exp(1000)).
  std::vector<float> wide_z, wide_t;
  for (int copy = 0; copy < 8; ++copy) {
    wide_z.insert(wide_z.end(), z.begin(), z.end());
    wide_t.insert(wide_t.end(), t.begin(), t.end());
  }
  const auto wide = gradient(loss, wide_z, wide_t);
  const float wide_n = float(wide_z.size());
  for (size_t k = 0; k < wide.size(); ++k) {
    ASSERT_TRUE(std::isfinite(wide[k])) << "element " << k;
    EXPECT_NEAR(wide[k] * wide_n, d[k % z.size()] * n, 1e-6f) << "element " << k;
  }
  EXPECT_NEAR(loss.sum(wide_z.data(), wide_t.data(), wide_z.size()),
              8 * (terms[0] + terms[1] + terms[2] + terms[3] + terms[4] + terms[5]), 1e-3);
}

TEST(Loss, ParsesNamesAndRefusesUnknown) {
  for (const char* name : {"mse", "rmse", "bce", "l1"})
    EXPECT_EQ(to_string(parse_loss(name)), name);
  try {
    parse_loss("huber");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("huber"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("bce"), std::string::npos);
  }
}

std::vector<float> random_values(size_t n, uint64_t seed, float scale, float offset) {
  RandomStream rng(seed, RandomPurpose::kTest);
  std::vector<float> v(n);
  for (float& x : v) x = offset + scale * rng.uniform();
  return v;
}

// Two shards of one batch, each with the global sum and count, give exactly the gradient of the
// whole batch and the same loss value, for every loss.
TEST(Loss, ShardGradientsWithGlobalSumsEqualWholeBatchGradient) {
  const size_t n = 40, cut = 13;
  const auto out = random_values(n, 1, 2.0f, -0.5f), target = random_values(n, 2, 1.0f, 0.0f);
  for (LossKind kind : {LossKind::kMse, LossKind::kRmse, LossKind::kL1, LossKind::kBce}) {
    const Loss loss(kind);
    const double whole_sum = loss.sum(out.data(), target.data(), n);
    std::vector<float> whole(n), sharded(n);
    loss.gradient(out.data(), target.data(), n, whole_sum, double(n), whole.data());
    const double sum_a = loss.sum(out.data(), target.data(), cut);
    const double sum_b = loss.sum(out.data() + cut, target.data() + cut, n - cut);
    const double global = sum_a + sum_b;
    // Shards sum their float chunks in another grouping than the whole batch: float precision.
    EXPECT_NEAR(loss.value(global, double(n)), loss.value(whole_sum, double(n)),
                1e-6 * loss.value(whole_sum, double(n)));
    loss.gradient(out.data(), target.data(), cut, global, double(n), sharded.data());
    loss.gradient(out.data() + cut, target.data() + cut, n - cut, global, double(n),
                  sharded.data() + cut);
    for (size_t k = 0; k < n; ++k)
      EXPECT_NEAR(sharded[k], whole[k], 2e-6 * std::fabs(whole[k]))
          << to_string(kind) << " element " << k;
  }
}

// The same through a network: the parameter gradients of two shards (each scaled by the global
// count) sum to the parameter gradient of the whole batch, as the all-reduce assumes.
TEST(Loss, NetworkGradientsOfShardsSumToWholeBatchGradient) {
  ModelSpec spec;
  spec.encoder = {12, 6, 3};
  spec.hidden = Activation::kRelu;
  for (LossKind kind : {LossKind::kMse, LossKind::kRmse, LossKind::kBce}) {
    const Loss loss(kind);
    Network net(spec, loss.takes_logits());
    net.initialize(5);
    const int batch = 8, cut = 3, width = spec.input_width();
    const auto x = random_values(size_t(batch) * width, 3, 1.0f, 0.0f);
    const size_t all = x.size(), first = size_t(cut) * width;

    auto forward_sum = [&](const float* input, int rows) {
      const float* out = net.forward(input, rows, true);
      return std::vector<float>(out, out + size_t(rows) * width);
    };
    const auto out_all = forward_sum(x.data(), batch);
    const double whole_sum = loss.sum(out_all.data(), x.data(), all);
    std::vector<float> diff(all);
    loss.gradient(out_all.data(), x.data(), all, whole_sum, double(all), diff.data());
    net.forward(x.data(), batch, true);
    net.backward(x.data(), diff.data(), batch);
    const std::vector<float> whole(net.gradients().begin(), net.gradients().end());

    const auto out_a = forward_sum(x.data(), cut);
    const auto out_b = forward_sum(x.data() + first, batch - cut);
    const double global = loss.sum(out_a.data(), x.data(), first) +
                          loss.sum(out_b.data(), x.data() + first, all - first);
    std::vector<float> summed(whole.size(), 0.0f), diff_a(first), diff_b(all - first);
    loss.gradient(out_a.data(), x.data(), first, global, double(all), diff_a.data());
    loss.gradient(out_b.data(), x.data() + first, all - first, global, double(all), diff_b.data());
    net.forward(x.data(), cut, true);
    net.backward(x.data(), diff_a.data(), cut);
    for (size_t k = 0; k < summed.size(); ++k) summed[k] += net.gradients()[k];
    net.forward(x.data() + first, batch - cut, true);
    net.backward(x.data() + first, diff_b.data(), batch - cut);
    for (size_t k = 0; k < summed.size(); ++k) summed[k] += net.gradients()[k];

    double largest = 0;
    for (float g : whole) largest = std::max(largest, double(std::fabs(g)));
    ASSERT_GT(largest, 1e-4) << to_string(kind);
    for (size_t k = 0; k < whole.size(); ++k)
      EXPECT_NEAR(summed[k], whole[k], 1e-6 + 1e-5 * std::fabs(whole[k]))
          << to_string(kind) << " parameter " << k;
  }
}

}  // namespace
}  // namespace aeflow::model
