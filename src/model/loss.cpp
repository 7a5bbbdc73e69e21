#include "aeflow/model/loss.hpp"

#include <algorithm>
#include <cmath>

#include "aeflow/base/error.hpp"
#include "loss_kernels.hpp"

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
  for (size_t begin = 0; begin < count; begin += kernels::kLossChunk) {
    const size_t n = std::min(kernels::kLossChunk, count - begin);
    const float* o = output + begin;
    const float* t = target + begin;
    switch (kind_) {
      case LossKind::kMse:
      case LossKind::kRmse:
        total += kernels::squared_error_sum(o, t, n);
        break;
      case LossKind::kL1:
        total += kernels::absolute_error_sum(o, t, n);
        break;
      case LossKind::kBce:
        total += kernels::bce_sum(o, t, n);
        break;
    }
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
      kernels::scaled_error(output, target, count, 2.0f * inv, diff);
      break;
    case LossKind::kRmse: {
      // d sqrt(m) = dm / (2 sqrt(m)); guard the exact-fit case where the gradient is 0/0.
      const double rmse = std::sqrt(global_sum / global_count);
      const float scale = rmse > 0 ? float(1.0 / (rmse * global_count)) : 0.0f;
      kernels::scaled_error(output, target, count, scale, diff);
      break;
    }
    case LossKind::kL1:
      kernels::scaled_sign(output, target, count, inv, diff);
      break;
    case LossKind::kBce:
      kernels::bce_gradient(output, target, count, inv, diff);
      break;
  }
}

}  // namespace aeflow::model
