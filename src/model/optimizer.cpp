#include "aeflow/model/optimizer.hpp"

#include <cmath>

#include "aeflow/base/error.hpp"

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

void Optimizer::step(std::span<float> params, std::span<const float> grads, float lr) {
  ++steps_;
  const size_t n = params.size();
  float* p = params.data();
  const float* g = grads.data();
  float* a = first_.data();
  float* b = second_.data();
  const float eps = config_.epsilon;
  switch (config_.kind) {
    case OptimizerKind::kSgd:
#pragma omp simd
      for (size_t k = 0; k < n; ++k) p[k] -= lr * g[k];
      break;
    case OptimizerKind::kMomentum: {
      const float mu = config_.momentum;
      if (config_.nesterov) {
#pragma omp simd
        for (size_t k = 0; k < n; ++k) {
          a[k] = mu * a[k] + g[k];
          p[k] -= lr * (g[k] + mu * a[k]);
        }
      } else {
#pragma omp simd
        for (size_t k = 0; k < n; ++k) {
          a[k] = mu * a[k] + g[k];
          p[k] -= lr * a[k];
        }
      }
      break;
    }
    case OptimizerKind::kRmsprop: {
      const float rho = config_.rho;
#pragma omp simd
      for (size_t k = 0; k < n; ++k) {
        a[k] = rho * a[k] + (1.0f - rho) * g[k] * g[k];
        p[k] -= lr * g[k] / (std::sqrt(a[k]) + eps);
      }
      break;
    }
    case OptimizerKind::kAdagrad:
#pragma omp simd
      for (size_t k = 0; k < n; ++k) {
        a[k] += g[k] * g[k];
        p[k] -= lr * g[k] / (std::sqrt(a[k]) + eps);
      }
      break;
    case OptimizerKind::kAdam: {
      const float b1 = config_.beta1, b2 = config_.beta2;
      // Bias corrections folded into the step size, as in Kingma & Ba's Algorithm 1 note.
      const double t = double(steps_);
      const float c1 = float(1.0 - std::pow(double(b1), t));
      const float c2 = float(1.0 - std::pow(double(b2), t));
      const float step_size = lr / c1;
      const float inv_sqrt_c2 = float(1.0 / std::sqrt(double(c2)));
#pragma omp simd
      for (size_t k = 0; k < n; ++k) {
        a[k] = b1 * a[k] + (1.0f - b1) * g[k];
        b[k] = b2 * b[k] + (1.0f - b2) * g[k] * g[k];
        p[k] -= step_size * a[k] / (std::sqrt(b[k]) * inv_sqrt_c2 + eps);
      }
      break;
    }
  }
}

}  // namespace aeflow::model
