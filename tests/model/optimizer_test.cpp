// Each optimizer's update against values worked by hand from the formulas in optimizer.hpp:
// three parameters, two steps, learning rate 0.1, gradients g1 then g2. Also: the named state
// buffers, and that restoring state and step count continues exactly (what resume relies on).
#include "aeflow/model/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"

namespace aeflow::model {
namespace {

const std::vector<float> kStart{1.0f, -2.0f, 0.5f};
const std::vector<float> kG1{0.5f, -1.0f, 0.25f};
const std::vector<float> kG2{-0.5f, 2.0f, 0.25f};
constexpr float kLr = 0.1f;
constexpr double kTolerance = 2e-6;  // float arithmetic against decimal values

struct Trace {
  std::vector<float> after1, after2;
  std::vector<std::vector<float>> state;  // after step 2, in state() order
  int64_t steps = 0;
};

Trace run_two_steps(const OptimizerConfig& config) {
  Optimizer optimizer(config, 3);
  std::vector<float> p = kStart;
  Trace trace;
  optimizer.step(p, kG1, kLr);
  trace.after1 = p;
  optimizer.step(p, kG2, kLr);
  trace.after2 = p;
  for (const auto& s : optimizer.state()) trace.state.push_back(s.values);
  trace.steps = optimizer.steps();
  return trace;
}

void expect_near(const std::vector<float>& actual, const std::vector<double>& expected,
                 const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t k = 0; k < expected.size(); ++k)
    EXPECT_NEAR(actual[k], expected[k], kTolerance) << what << " [" << k << "]";
}

OptimizerConfig make(OptimizerKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  return c;
}

TEST(Optimizer, SgdStepsAgainstGradient) {
  const Trace t = run_two_steps(make(OptimizerKind::kSgd));
  // p1 = p0 - 0.1 g1; p2 = p1 - 0.1 g2
  expect_near(t.after1, {0.95, -1.9, 0.475}, "p1");
  expect_near(t.after2, {1.0, -2.1, 0.45}, "p2");
  EXPECT_TRUE(t.state.empty());
  EXPECT_EQ(t.steps, 2);
}

TEST(Optimizer, MomentumAccumulatesVelocity) {
  const Trace t = run_two_steps(make(OptimizerKind::kMomentum));  // mu 0.9
  // v1 = g1 = (0.5, -1, 0.25); p1 = p0 - 0.1 v1
  expect_near(t.after1, {0.95, -1.9, 0.475}, "p1");
  // v2 = 0.9 v1 + g2 = (-0.05, 1.1, 0.475); p2 = p1 - 0.1 v2
  expect_near(t.after2, {0.955, -2.01, 0.4275}, "p2");
  ASSERT_EQ(t.state.size(), 1u);
  expect_near(t.state[0], {-0.05, 1.1, 0.475}, "velocity");
}

TEST(Optimizer, NesterovMomentumLooksAhead) {
  OptimizerConfig c = make(OptimizerKind::kMomentum);
  c.nesterov = true;
  const Trace t = run_two_steps(c);
  // v1 = g1; p1 = p0 - 0.1 (g1 + 0.9 v1) = p0 - 0.19 g1
  expect_near(t.after1, {0.905, -1.81, 0.4525}, "p1");
  // v2 = (-0.05, 1.1, 0.475); g2 + 0.9 v2 = (-0.545, 2.99, 0.6775); p2 = p1 - 0.1 (that)
  expect_near(t.after2, {0.9595, -2.109, 0.38475}, "p2");
  expect_near(t.state[0], {-0.05, 1.1, 0.475}, "velocity");
}

TEST(Optimizer, RmspropDividesByRootMeanSquare) {
  const Trace t = run_two_steps(make(OptimizerKind::kRmsprop));  // rho 0.9, eps 1e-7
  // s1 = 0.1 g1^2, so sqrt(s1) = |g1| / sqrt(10): every parameter moves by 0.1 sqrt(10).
  expect_near(t.after1, {1 - 0.316227766, -2 + 0.316227766, 0.5 - 0.316227766}, "p1");
  // s2 = 0.9 s1 + 0.1 g2^2 = (0.0475, 0.49, 0.011875); p2 = p1 - 0.1 g2 / sqrt(s2)
  expect_near(t.state[0], {0.0475, 0.49, 0.011875}, "mean_square");
  expect_near(t.after2, {0.913188063, -1.683772234 - 0.2 / 0.7, -0.0456428894}, "p2");
}

TEST(Optimizer, AdagradStartsFromInitialAccumulator) {
  const Trace t = run_two_steps(make(OptimizerKind::kAdagrad));  // a0 0.1, eps 1e-7
  // a1 = 0.1 + g1^2 = (0.35, 1.1, 0.1625); p1 = p0 - 0.1 g1 / sqrt(a1)
  expect_near(
      t.after1,
      {1 - 0.05 / std::sqrt(0.35), -2 + 0.1 / std::sqrt(1.1), 0.5 - 0.025 / std::sqrt(0.1625)},
      "p1");
  // a2 = a1 + g2^2 = (0.6, 5.1, 0.225)
  expect_near(t.state[0], {0.6, 5.1, 0.225}, "accumulator");
  expect_near(t.after2, {0.980034303, -1.99321523, 0.385278032}, "p2");
}

TEST(Optimizer, AdagradInitialAccumulatorIsConfigurable) {
  OptimizerConfig c = make(OptimizerKind::kAdagrad);
  c.initial_accumulator = 0.75f;
  Optimizer optimizer(c, 3);
  ASSERT_EQ(optimizer.state().size(), 1u);
  expect_near(optimizer.state()[0].values, {0.75, 0.75, 0.75}, "accumulator before a step");
  std::vector<float> p = kStart;
  optimizer.step(p, kG1, kLr);
  // a1 = 0.75 + g1^2 = (1, 1.75, 0.8125)
  expect_near(p, {0.95, -2 + 0.1 / std::sqrt(1.75), 0.5 - 0.025 / std::sqrt(0.8125)}, "p1");
}

TEST(Optimizer, AdamCorrectsMomentBias) {
  const Trace t = run_two_steps(make(OptimizerKind::kAdam));  // 0.9, 0.999, eps 1e-7
  // Step 1 with bias correction: m^ = g1, v^ = g1^2, so each parameter moves by lr = 0.1
  // against the sign of its gradient (up to eps).
  expect_near(t.after1, {0.9, -1.9, 0.4}, "p1");
  // m2 = 0.9 (0.1 g1) + 0.1 g2 = (-0.005, 0.11, 0.0475)
  // v2 = 0.999 (0.001 g1^2) + 0.001 g2^2 = (0.00049975, 0.004999, 0.0001249375)
  // p2 = p1 - 0.1 (m2 / 0.19) / (sqrt(v2 / 0.001999) + eps)
  ASSERT_EQ(t.state.size(), 2u);
  expect_near(t.state[0], {-0.005, 0.11, 0.0475}, "m");
  expect_near(t.state[1], {0.00049975, 0.004999, 0.0001249375}, "v");
  expect_near(t.after2, {0.905263177, -1.93661036, 0.30000008}, "p2");
  EXPECT_EQ(t.steps, 2);
}

TEST(Optimizer, StateNamesMatchTheirKind) {
  const auto names = [](OptimizerKind kind) {
    Optimizer optimizer(make(kind), 3);
    std::vector<std::string> out;
    for (const auto& s : optimizer.state()) {
      out.push_back(s.name);
      EXPECT_EQ(s.values.size(), 3u);
    }
    return out;
  };
  EXPECT_EQ(names(OptimizerKind::kSgd), std::vector<std::string>{});
  EXPECT_EQ(names(OptimizerKind::kMomentum), std::vector<std::string>{"velocity"});
  EXPECT_EQ(names(OptimizerKind::kRmsprop), std::vector<std::string>{"mean_square"});
  EXPECT_EQ(names(OptimizerKind::kAdagrad), std::vector<std::string>{"accumulator"});
  EXPECT_EQ(names(OptimizerKind::kAdam), (std::vector<std::string>{"m", "v"}));
}

// A fresh optimizer given the state and step count after step 1 takes step 2 exactly as the
// original did: Adam's bias correction comes from the restored step count.
TEST(Optimizer, RestoredStateAndStepsContinueBitwise) {
  for (OptimizerKind kind : {OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
                             OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    Optimizer original(make(kind), 3);
    std::vector<float> p = kStart;
    original.step(p, kG1, kLr);
    Optimizer restored(make(kind), 3);
    for (size_t i = 0; i < original.state().size(); ++i)
      restored.set_state(original.state()[i].name, original.state()[i].values);
    restored.set_steps(original.steps());
    std::vector<float> q = p;
    original.step(p, kG2, kLr);
    restored.step(q, kG2, kLr);
    EXPECT_EQ(p, q) << to_string(kind);
  }
  // Without the step count, Adam's second step would be bias-corrected as a first one.
  Optimizer original(make(OptimizerKind::kAdam), 3), forgetful(make(OptimizerKind::kAdam), 3);
  std::vector<float> p = kStart;
  original.step(p, kG1, kLr);
  for (const auto& state : original.state()) forgetful.set_state(state.name, state.values);
  std::vector<float> q = p;
  original.step(p, kG2, kLr);
  forgetful.step(q, kG2, kLr);
  EXPECT_NE(p, q);
}

// What --grad-sync shared relies on: a step applied in pieces (each rank its slice, a block at
// a time) equals the whole step bit for bit, state included. The buffer is long enough for
// the vector loops' main bodies and tails, and pieces start at odd offsets.
TEST(Optimizer, StepInPiecesEqualsWholeStepBitwise) {
  const size_t n = 1000;
  std::vector<float> start(n), g1(n), g2(n);
  for (size_t k = 0; k < n; ++k) {
    start[k] = std::sin(float(k));
    g1[k] = std::cos(float(k) * 0.7f);
    g2[k] = std::sin(float(k) * 1.3f) * 1e-3f;
  }
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
                             OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    Optimizer whole(make(kind), n), pieces(make(kind), n);
    std::vector<float> p = start, q = start;
    for (const auto* g : {&g1, &g2}) {
      whole.step(p, *g, kLr);
      pieces.begin_step();
      for (size_t begin : {size_t(0), size_t(37), size_t(500)}) {
        const size_t end = begin == 0 ? 37 : (begin == 37 ? 500 : n);
        pieces.update(begin, std::span<float>(q).subspan(begin, end - begin),
                      std::span<const float>(*g).subspan(begin, end - begin), kLr);
      }
    }
    EXPECT_EQ(p, q) << to_string(kind);
    for (size_t i = 0; i < whole.state().size(); ++i)
      EXPECT_EQ(whole.state()[i].values, pieces.state()[i].values) << to_string(kind);
    EXPECT_EQ(whole.steps(), pieces.steps());
  }
}

// Decoupled weight decay: a step with it is the step without it from parameters first scaled by
// 1 - lr * weight_decay, bit for bit, for every optimizer; the state (which sees only the
// gradients) is untouched, and the decay holds in pieces too.
TEST(Optimizer, WeightDecayShrinksTheParametersBeforeTheUpdate) {
  constexpr float kDecay = 0.3f;
  const float keep = 1.0f - kLr * kDecay;
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
                             OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    OptimizerConfig decayed = make(kind);
    decayed.weight_decay = kDecay;
    Optimizer with(decayed, 3), without(make(kind), 3), pieces(decayed, 3);
    std::vector<float> p = kStart, q = kStart, r = kStart;
    for (const auto* g : {&kG1, &kG2}) {
      with.step(p, *g, kLr);
      for (float& value : q) value *= keep;
      without.step(q, *g, kLr);
      pieces.begin_step();
      pieces.update(0, std::span<float>(r).first(1), std::span<const float>(*g).first(1), kLr);
      pieces.update(1, std::span<float>(r).subspan(1), std::span<const float>(*g).subspan(1), kLr);
    }
    EXPECT_EQ(p, q) << to_string(kind);
    EXPECT_EQ(p, r) << to_string(kind);
    for (size_t i = 0; i < with.state().size(); ++i)
      EXPECT_EQ(with.state()[i].values, without.state()[i].values) << to_string(kind);
  }
  // SGD by hand: p1 = 0.97 p0 - 0.1 g1
  OptimizerConfig sgd = make(OptimizerKind::kSgd);
  sgd.weight_decay = kDecay;
  Optimizer optimizer(sgd, 3);
  std::vector<float> p = kStart;
  optimizer.step(p, kG1, kLr);
  expect_near(p, {0.92, -1.84, 0.46}, "p1");
}

// Round to nearest, ties to even, by its definition: of the two bf16 values around X (its bits
// cut to the upper 16, and the next), the nearer; on a tie the one with an even last bit.
uint16_t nearest_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40u);  // quiet NaN
  if (std::isinf(x)) return uint16_t(bits >> 16);
  const uint16_t below = uint16_t(bits >> 16), above = uint16_t(below + 1);
  auto value = [](uint16_t b) {
    const uint32_t wide = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &wide, sizeof f);
    return double(f);
  };
  const double to_below = std::fabs(double(x) - value(below));
  const double to_above = std::isinf(value(above)) && !std::isinf(x)
                              ? std::ldexp(1.0, 128) - std::fabs(double(x))  // (rounds to inf)
                              : std::fabs(value(above) - double(x));
  if (to_below != to_above) return to_below < to_above ? below : above;
  return (below & 1) ? above : below;
}

// The bf16 copy an update writes (PARAMS16) is the updated parameters rounded to nearest even,
// special values included, and asking for it changes nothing else: the parameters and the state
// are the bits of an update without it. Over 5000 parameters: the update goes by cache-sized
// blocks, which must not change the arithmetic (checked against one parameter at a time).
TEST(Optimizer, TheBf16CopyIsTheUpdatedParametersRoundedToNearestEven) {
  const size_t n = 5000;
  std::vector<float> start(n), g(n);
  RandomStream rng(17, RandomPurpose::kTest);
  for (size_t k = 0; k < n; ++k) {
    start[k] = (rng.uniform() - 0.5f) * 4.0f;
    g[k] = rng.uniform() - 0.5f;
  }
  // Values SGD with a zero gradient and no decay leaves as they are: ties (even and odd), the
  // largest float (rounds to infinity), infinities, a NaN, denormals, zeros.
  const std::vector<uint32_t> special = {0x3f808000u, 0x3f818000u, 0x3f80c000u, 0x7f7fffffu,
                                         0x7f800000u, 0xff800000u, 0x7fc00001u, 0x00012345u,
                                         0x80008000u, 0x00000000u, 0x80000000u, 0x3f80ffffu};
  for (OptimizerKind kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
                             OptimizerKind::kAdagrad, OptimizerKind::kAdam}) {
    OptimizerConfig config = make(kind);
    config.weight_decay = 0.1f;
    Optimizer with(config, n), without(config, n), one_at_a_time(config, n);
    std::vector<float> p = start, q = start, r = start;
    std::vector<uint16_t> copy(n, 0);
    for (int step = 0; step < 2; ++step) {
      with.step(p, g, kLr, copy);
      without.step(q, g, kLr);
      one_at_a_time.begin_step();
      for (size_t k = 0; k < n; ++k)
        one_at_a_time.update(k, std::span<float>(r).subspan(k, 1),
                             std::span<const float>(g).subspan(k, 1), kLr);
    }
    EXPECT_EQ(p, q) << to_string(kind);
    EXPECT_EQ(p, r) << to_string(kind);
    for (size_t i = 0; i < with.state().size(); ++i)
      EXPECT_EQ(with.state()[i].values, without.state()[i].values) << to_string(kind);
    size_t wrong = 0;
    for (size_t k = 0; k < n; ++k) wrong += copy[k] != nearest_bf16(p[k]);
    EXPECT_EQ(wrong, 0u) << to_string(kind);
  }
  Optimizer sgd(make(OptimizerKind::kSgd), special.size());
  std::vector<float> p(special.size());
  std::memcpy(p.data(), special.data(), special.size() * sizeof(float));
  const std::vector<float> zero(special.size(), 0.0f);
  std::vector<uint16_t> copy(special.size(), 0);
  sgd.step(p, zero, kLr, copy);
  const std::vector<uint16_t> expected = {0x3f80, 0x3f82, 0x3f81, 0x7f80, 0x7f80, 0xff80,
                                          0x7fc0, 0x0001, 0x8000, 0x0000, 0x8000, 0x3f81};
  EXPECT_EQ(copy, expected);
  for (size_t k = 0; k < special.size(); ++k)
    EXPECT_EQ(copy[k], nearest_bf16(p[k])) << std::hex << special[k];
  std::vector<uint16_t> short_copy(2);
  EXPECT_THROW(sgd.step(p, zero, kLr, short_copy), RunError);
}

// Adam keeps m and v interleaved by blocks of 16 parameters; state() and set_state() speak in
// plain per-parameter arrays (what checkpoints hold), for any length.
TEST(Optimizer, StateRoundTripsThroughItsStoredLayout) {
  const size_t n = 37;  // two full blocks and a partial one
  Optimizer adam(make(OptimizerKind::kAdam), n);
  std::vector<float> m(n), v(n);
  for (size_t k = 0; k < n; ++k) {
    m[k] = float(k);
    v[k] = 1000.0f + float(k);
  }
  adam.set_state("v", v);
  adam.set_state("m", m);
  const auto state = adam.state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].name, "m");
  EXPECT_EQ(state[0].values, m);
  EXPECT_EQ(state[1].values, v);
  EXPECT_EQ(adam.stored_state().size(), 2 * 48u);
  EXPECT_EQ(adam.stored_state()[16], 1000.0f);  // the first block's v follows its 16 m
  EXPECT_THROW(adam.set_state("velocity", m), InputError);
  EXPECT_THROW(adam.set_state("m", std::vector<float>(n + 1)), InputError);
}

TEST(Optimizer, ParsesNamesAndRefusesUnknown) {
  for (const char* name : {"sgd", "momentum", "rmsprop", "adagrad", "adam"})
    EXPECT_EQ(to_string(parse_optimizer(name)), name);
  try {
    parse_optimizer("adamw");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("adamw"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("rmsprop"), std::string::npos);
  }
}

}  // namespace
}  // namespace aeflow::model
