#include "aeflow/model/loss.hpp"

#include <cmath>

#include "aeflow/base/error.hpp"

namespace aeflow::model {

LossKind parse_loss(std::string_view name) {
  if (name == "mse") return LossKind::kMse;
  if (name == "rmse") return LossKind::kRmse;
  if (name == "bce") return LossKind::kBce;
  if (name == "l1" || name == "mae") return LossKind::kL1;
  throw InputError("unknown loss '" + std::string(name) + "': expected one of mse, rmse, bce, l1");
}

std::string to_string(LossKind kind) {
  switch (kind) {
    case LossKind::kMse:
      return "mse";
    case LossKind::kRmse:
      return "rmse";
    case LossKind::kBce:
      return "bce";
    case LossKind::kL1:
      return "l1";
  }
  return "?";
}

double Loss::sum(const float* output, const float* target, size_t count) const {
  double total = 0;
  switch (kind_) {
    case LossKind::kMse:
    case LossKind::kRmse:
      for (size_t k = 0; k < count; ++k) {
        const double e = double(output[k]) - target[k];
        total += e * e;
      }
      break;
    case LossKind::kL1:
      for (size_t k = 0; k < count; ++k) total += std::fabs(double(output[k]) - target[k]);
      break;
    case LossKind::kBce:
      // -t log s(z) - (1-t) log(1-s(z)) = max(z,0) - z t + log(1 + exp(-|z|)): no overflow.
      for (size_t k = 0; k < count; ++k) {
        const double z = output[k];
        total += std::max(z, 0.0) - z * target[k] + std::log1p(std::exp(-std::fabs(z)));
      }
      break;
  }
  return total;
}

double Loss::value(double global_sum, double global_count) const {
  if (global_count <= 0) return 0;
  const double mean = global_sum / global_count;
  return kind_ == LossKind::kRmse ? std::sqrt(mean) : mean;
}

void Loss::gradient(const float* output, const float* target, size_t count, double global_sum,
                    double global_count, float* diff) const {
  const float inv = float(1.0 / global_count);
  switch (kind_) {
    case LossKind::kMse:
      for (size_t k = 0; k < count; ++k) diff[k] = 2.0f * inv * (output[k] - target[k]);
      break;
    case LossKind::kRmse: {
      // d sqrt(m) = dm / (2 sqrt(m)); guard the exact-fit case where the gradient is 0/0.
      const double rmse = std::sqrt(global_sum / global_count);
      const float scale = rmse > 0 ? float(1.0 / (rmse * global_count)) : 0.0f;
      for (size_t k = 0; k < count; ++k) diff[k] = scale * (output[k] - target[k]);
      break;
    }
    case LossKind::kL1:
      for (size_t k = 0; k < count; ++k) {
        const float e = output[k] - target[k];
        diff[k] = e > 0 ? inv : (e < 0 ? -inv : 0.0f);
      }
      break;
    case LossKind::kBce:
      for (size_t k = 0; k < count; ++k)
        diff[k] = inv * (1.0f / (1.0f + std::exp(-output[k])) - target[k]);
      break;
  }
}

}  // namespace aeflow::model
