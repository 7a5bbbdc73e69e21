#include "aeflow/base/progress_line.hpp"

namespace aeflow {

bool ProgressLine::due() const {
  return enabled_ && (last_ == std::chrono::steady_clock::time_point{} ||
                      std::chrono::steady_clock::now() - last_ >= std::chrono::milliseconds(500));
}

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  out_ << '\r' << text;
  if (text.size() < shown_) out_ << std::string(shown_ - text.size(), ' ');
  out_ << std::flush;
  shown_ = text.size();
  last_ = std::chrono::steady_clock::now();
}

void ProgressLine::clear() {
  if (!enabled_ || shown_ == 0) return;
  out_ << '\r' << std::string(shown_, ' ') << '\r' << std::flush;
  shown_ = 0;
}

}  // namespace aeflow
