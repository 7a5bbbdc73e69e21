// A progress line on a terminal, rewritten in place ("\r") as training goes on, and cleared
// before any other line is printed. Disabled (a log file, Slurm's output) it writes nothing.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace aeflow {

class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
  ~ProgressLine() { clear(); }  // (an error on the way out starts on a line of its own)
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // True when a new line is due: the first call, then every half second.
  bool due() const;
  // Shows TEXT in place of the line shown before, cut to the terminal's width (a line that
  // wrapped could not be rewritten).
  void show(const std::string& text);
  // Removes the line, so that the next output starts at the beginning of an empty line.
  void clear();

 private:
  std::ostream& out_;
  bool enabled_;
  size_t shown_ = 0;  // characters on the line now
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace aeflow
