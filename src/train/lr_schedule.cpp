#include "aeflow/train/lr_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "aeflow/base/error.hpp"

namespace aeflow::train {

LrScheduleKind parse_lr_schedule(std::string_view name) {
  if (name == "constant") return LrScheduleKind::kConstant;
  if (name == "cosine") return LrScheduleKind::kCosine;
  if (name == "step") return LrScheduleKind::kStep;
  throw InputError("unknown --lr-schedule '" + std::string(name) +
                   "': expected constant, cosine or step");
}

std::string to_string(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::kConstant:
      return "constant";
    case LrScheduleKind::kCosine:
      return "cosine";
    case LrScheduleKind::kStep:
      return "step";
  }
  return "?";
}

double LrSchedule::at(int64_t step, int64_t total_steps) const {
  if (warmup_steps > 0 && step < warmup_steps)
    return base * double(step + 1) / double(warmup_steps);
  switch (kind) {
    case LrScheduleKind::kConstant:
      return base;
    case LrScheduleKind::kCosine: {
      const double span = double(std::max<int64_t>(1, total_steps - warmup_steps));
      const double t = std::clamp(double(step - warmup_steps) / span, 0.0, 1.0);
      return min_lr + 0.5 * (base - min_lr) * (1.0 + std::cos(std::numbers::pi * t));
    }
    case LrScheduleKind::kStep:
      if (decay_every <= 0) return base;
      return base * std::pow(gamma, double((step - warmup_steps) / decay_every));
  }
  return base;
}

}  // namespace aeflow::train
