// Learning rate as a function of the optimizer step: constant, cosine decay or step decay, each
// with an optional linear warm-up. A pure function of the step and the run's total steps, so a
// resumed run needs no state; but cosine decay is stretched over the total, so resuming with
// more --epochs re-draws the curve from there (the rate jumps up to where the longer run is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aeflow::train {

enum class LrScheduleKind { kConstant, kCosine, kStep };
LrScheduleKind parse_lr_schedule(std::string_view name);
std::string to_string(LrScheduleKind kind);

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  double base = 1e-3;
  int64_t warmup_steps = 0;  // linear ramp from base/warmup to base over these steps
  double min_lr = 0;         // cosine: the rate reached at the last step
  int64_t decay_every = 0;   // step: multiply by gamma every this many steps
  double gamma = 0.1;

  // The rate for optimizer step `step` (0-based) of a run of `total_steps`.
  double at(int64_t step, int64_t total_steps) const;
};

}  // namespace aeflow::train
