#include "aeflow/base/progress_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace aeflow {

bool ProgressLine::due() const {
  return enabled_ && (last_ == std::chrono::steady_clock::time_point{} ||
                      std::chrono::steady_clock::now() - last_ >= std::chrono::milliseconds(500));
}

namespace {

// Columns of the terminal on stdout (80 when it does not say).
size_t terminal_columns() {
  winsize size{};
  return ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
}

}  // namespace

void ProgressLine::show(const std::string& full_text) {
  if (!enabled_) return;
  const std::string text = full_text.substr(0, std::max<size_t>(1, terminal_columns()) - 1);
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
