#include "aeflow/model/optimizer.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "aeflow/base/error.hpp"
#include "aeflow/base/vectorized.hpp"
#include "bf16_rounding.hpp"

namespace aeflow::model {

OptimizerKind parse_optimizer(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "momentum") return OptimizerKind::kMomentum;
  if (name == "rmsprop") return OptimizerKind::kRmsprop;
  if (name == "adagrad") return OptimizerKind::kAdagrad;
  if (name == "adam") return OptimizerKind::kAdam;
  throw InputError("unknown optimizer '" + std::string(name) +
                   "': expected one of sgd, momentum, rmsprop, adagrad, adam");
}

std::string to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kRmsprop:
      return "rmsprop";
    case OptimizerKind::kAdagrad:
      return "adagrad";
    case OptimizerKind::kAdam:
      return "adam";
  }
  return "?";
}

namespace {

std::vector<std::string> state_names(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return {};
    case OptimizerKind::kMomentum:
      return {"velocity"};
    case OptimizerKind::kRmsprop:
      return {"mean_square"};
    case OptimizerKind::kAdagrad:
      return {"accumulator"};
    case OptimizerKind::kAdam:
      return {"m", "v"};
  }
  return {};
}

}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, size_t n)
    : config_(config), count_(n), names_(state_names(config.kind)) {
  const size_t padded = (n + kStateBlock - 1) / kStateBlock * kStateBlock;
  const float initial = config.kind == OptimizerKind::kAdagrad ? config.initial_accumulator : 0.0f;
  stored_.assign(names_.size() * padded, initial);
}

std::vector<Optimizer::State> Optimizer::state() const {
  std::vector<State> out;
  const size_t arrays = names_.size();
  for (size_t a = 0; a < arrays; ++a) {
    State state{names_[a], std::vector<float>(count_)};
    for (size_t k = 0; k < count_; ++k) state.values[k] = stored_[stored_at(k, a, arrays)];
    out.push_back(std::move(state));
  }
  return out;
}

void Optimizer::set_state(std::string_view name, std::span<const float> values) {
  const auto found = std::find(names_.begin(), names_.end(), name);
  if (found == names_.end())
    throw InputError("optimizer " + to_string(config_.kind) + " has no state '" +
                     std::string(name) + "'");
  if (values.size() != count_)
    throw InputError("optimizer state '" + std::string(name) + "' has " +
                     std::to_string(values.size()) + " values, not " + std::to_string(count_));
  const size_t arrays = names_.size(), a = size_t(found - names_.begin());
  for (size_t k = 0; k < count_; ++k) stored_[stored_at(k, a, arrays)] = values[k];
}

namespace {

// The update loops, one per optimizer, over [0, n) of the flat buffers; before any of them, the
// decoupled weight decay when there is one.
AEFLOW_VECTORIZED void decay(float* p, size_t n, float keep) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) p[k] *= keep;
}

AEFLOW_VECTORIZED void sgd_update(float* p, const float* g, size_t n, float lr) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) p[k] -= lr * g[k];
}

AEFLOW_VECTORIZED void momentum_update(float* p, const float* g, float* v, size_t n, float lr,
                                       float mu, bool nesterov) {
  if (nesterov) {
#pragma omp simd
    for (size_t k = 0; k < n; ++k) {
      v[k] = mu * v[k] + g[k];
      p[k] -= lr * (g[k] + mu * v[k]);
    }
  } else {
#pragma omp simd
    for (size_t k = 0; k < n; ++k) {
      v[k] = mu * v[k] + g[k];
      p[k] -= lr * v[k];
    }
  }
}

AEFLOW_VECTORIZED void rmsprop_update(float* p, const float* g, float* s, size_t n, float lr,
                                      float rho, float eps) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) {
    s[k] = rho * s[k] + (1.0f - rho) * g[k] * g[k];
    p[k] -= lr * g[k] / (std::sqrt(s[k]) + eps);
  }
}

AEFLOW_VECTORIZED void adagrad_update(float* p, const float* g, float* a, size_t n, float lr,
                                      float eps) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) {
    a[k] += g[k] * g[k];
    p[k] -= lr * g[k] / (std::sqrt(a[k]) + eps);
  }
}

// Adam's m and v are stored interleaved by blocks of 16 parameters (m of the block, then its
// v): three memory streams instead of four for the state, which this memory-bound loop feels
// (docs/performance.md). P and G point at element BEGIN
// of the flat buffers; MV is the whole stored state.
AEFLOW_VECTORIZED void adam_update(float* p, const float* g, float* mv, size_t begin, size_t end,
                                   float b1, float b2, float step_size, float inv_sqrt_c2,
                                   float eps) {
  constexpr size_t kBlock = Optimizer::kStateBlock;
  size_t k = begin;
  while (k < end) {
    const size_t j0 = k % kBlock, j1 = std::min(kBlock, j0 + (end - k));
    float* m = mv + k / kBlock * 2 * kBlock;
    float* v = m + kBlock;
    float* pk = p + (k - begin);  // element j of the block is pk[j - j0]
    const float* gk = g + (k - begin);
    if (j0 == 0 && j1 == kBlock) {
#pragma omp simd
      for (size_t j = 0; j < kBlock; ++j) {
        m[j] = b1 * m[j] + (1.0f - b1) * gk[j];
        v[j] = b2 * v[j] + (1.0f - b2) * gk[j] * gk[j];
        pk[j] -= step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_c2 + eps);
      }
    } else {  // a partial block at either end of the range: the same arithmetic
      for (size_t j = j0; j < j1; ++j) {
        const float gj = gk[j - j0];
        m[j] = b1 * m[j] + (1.0f - b1) * gj;
        v[j] = b2 * v[j] + (1.0f - b2) * gj * gj;
        pk[j - j0] -= step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_c2 + eps);
      }
    }
    k += j1 - j0;
  }
}

}  // namespace

void Optimizer::update(size_t offset, std::span<float> params, std::span<const float> grads,
                       float lr, std::span<uint16_t> params16) {
  if (grads.size() != params.size()) throw RunError("Optimizer::update: sizes differ");
  if (!params16.empty() && params16.size() != params.size())
    throw RunError("Optimizer::update: the bf16 copy's size differs");
  uint16_t* p16 = params16.empty() ? nullptr : params16.data();
  // With several threads per rank, each updates a contiguous piece (the arithmetic of every
  // element is the same, so the result does not depend on the thread count). Small ranges stay
  // on one thread: a parallel region costs microseconds.
  const size_t n = params.size();
  const int threads = n >= (size_t(1) << 16) ? omp_get_max_threads() : 1;
  if (threads <= 1) {
    update_piece(offset, params.data(), grads.data(), p16, n, lr);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const size_t begin = n * size_t(t) / size_t(threads) / 16 * 16;
    const size_t end = t + 1 == threads ? n : n * size_t(t + 1) / size_t(threads) / 16 * 16;
    update_piece(offset + begin, params.data() + begin, grads.data() + begin,
                 p16 ? p16 + begin : nullptr, end - begin, lr);
  }
}

void Optimizer::update_piece(size_t offset, float* p, const float* g, uint16_t* p16, size_t n,
                             float lr) {
  const float eps = config_.epsilon;
  const float keep = 1.0f - lr * config_.weight_decay;
  // Bias corrections folded into Adam's step size, as in Kingma & Ba's Algorithm 1 note.
  const double t = double(steps_);
  const float c1 = float(1.0 - std::pow(double(config_.beta1), t));
  const float c2 = float(1.0 - std::pow(double(config_.beta2), t));
  // A cache-sized block at a time, so the decay, the update and the bf16 copy read the values
  // from L1 rather than from memory (the loops are memory-bound). Every element's arithmetic is
  // the same whatever the blocks.
  constexpr size_t kBlock = 2048;  // a multiple of kStateBlock
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    float* pb = p + b;
    const float* gb = g + b;
    float* first = stored_.data() + (stored_.empty() ? 0 : offset + b);  // one array: plain
    if (config_.weight_decay > 0) decay(pb, m, keep);
    switch (config_.kind) {
      case OptimizerKind::kSgd:
        sgd_update(pb, gb, m, lr);
        break;
      case OptimizerKind::kMomentum:
        momentum_update(pb, gb, first, m, lr, config_.momentum, config_.nesterov);
        break;
      case OptimizerKind::kRmsprop:
        rmsprop_update(pb, gb, first, m, lr, config_.rho, eps);
        break;
      case OptimizerKind::kAdagrad:
        adagrad_update(pb, gb, first, m, lr, eps);
        break;
      case OptimizerKind::kAdam:
        adam_update(pb, gb, stored_.data(), offset + b, offset + b + m, config_.beta1,
                    config_.beta2, lr / c1, float(1.0 / std::sqrt(double(c2))), eps);
        break;
    }
    if (p16) kernels::round_to_bf16(pb, m, p16 + b);
  }
}

}  // namespace aeflow::model
