#include "aeflow/model/optimizer.hpp"

#include <omp.h>

#include <cmath>

#include "aeflow/base/error.hpp"
#include "aeflow/base/vectorized.hpp"

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

Optimizer::Optimizer(const OptimizerConfig& config, size_t n) : config_(config) {
  switch (config.kind) {
    case OptimizerKind::kSgd:
      break;
    case OptimizerKind::kMomentum:
    case OptimizerKind::kRmsprop:
      first_.assign(n, 0.0f);
      break;
    case OptimizerKind::kAdagrad:
      first_.assign(n, config.initial_accumulator);
      break;
    case OptimizerKind::kAdam:
      first_.assign(n, 0.0f);
      second_.assign(n, 0.0f);
      break;
  }
}

std::vector<Optimizer::State> Optimizer::state() {
  switch (config_.kind) {
    case OptimizerKind::kSgd:
      return {};
    case OptimizerKind::kMomentum:
      return {{"velocity", &first_}};
    case OptimizerKind::kRmsprop:
      return {{"mean_square", &first_}};
    case OptimizerKind::kAdagrad:
      return {{"accumulator", &first_}};
    case OptimizerKind::kAdam:
      return {{"m", &first_}, {"v", &second_}};
  }
  return {};
}

namespace {

// The update loops, one per optimizer, over [0, n) of the flat buffers.
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

AEFLOW_VECTORIZED void adam_update(float* p, const float* g, float* m, float* v, size_t n, float b1,
                                   float b2, float step_size, float inv_sqrt_c2, float eps) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) {
    m[k] = b1 * m[k] + (1.0f - b1) * g[k];
    v[k] = b2 * v[k] + (1.0f - b2) * g[k] * g[k];
    p[k] -= step_size * m[k] / (std::sqrt(v[k]) * inv_sqrt_c2 + eps);
  }
}

}  // namespace

void Optimizer::update(size_t offset, std::span<float> params, std::span<const float> grads,
                       float lr) {
  if (grads.size() != params.size()) throw RunError("Optimizer::update: sizes differ");
  // With several threads per rank, each updates a contiguous piece (the arithmetic of every
  // element is the same, so the result does not depend on the thread count). Small ranges stay
  // on one thread: a parallel region costs microseconds.
  const size_t n = params.size();
  const int threads = n >= (size_t(1) << 16) ? omp_get_max_threads() : 1;
  if (threads <= 1) {
    update_piece(offset, params.data(), grads.data(), n, lr);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    const size_t begin = n * size_t(t) / size_t(threads) / 16 * 16;
    const size_t end = t + 1 == threads ? n : n * size_t(t + 1) / size_t(threads) / 16 * 16;
    update_piece(offset + begin, params.data() + begin, grads.data() + begin, end - begin, lr);
  }
}

void Optimizer::update_piece(size_t offset, float* p, const float* g, size_t n, float lr) {
  const float eps = config_.epsilon;
  float* first = first_.data() + (first_.empty() ? 0 : offset);
  float* second = second_.data() + (second_.empty() ? 0 : offset);
  switch (config_.kind) {
    case OptimizerKind::kSgd:
      sgd_update(p, g, n, lr);
      break;
    case OptimizerKind::kMomentum:
      momentum_update(p, g, first, n, lr, config_.momentum, config_.nesterov);
      break;
    case OptimizerKind::kRmsprop:
      rmsprop_update(p, g, first, n, lr, config_.rho, eps);
      break;
    case OptimizerKind::kAdagrad:
      adagrad_update(p, g, first, n, lr, eps);
      break;
    case OptimizerKind::kAdam: {
      // Bias corrections folded into the step size, as in Kingma & Ba's Algorithm 1 note.
      const double t = double(steps_);
      const float c1 = float(1.0 - std::pow(double(config_.beta1), t));
      const float c2 = float(1.0 - std::pow(double(config_.beta2), t));
      adam_update(p, g, first, second, n, config_.beta1, config_.beta2, lr / c1,
                  float(1.0 / std::sqrt(double(c2))), eps);
      break;
    }
  }
}

}  // namespace aeflow::model
