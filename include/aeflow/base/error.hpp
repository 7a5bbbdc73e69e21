// Error types that decide the exit code: bad input or configuration (2) versus a failure while
// running (1). Messages are written for the user: say which file or option, what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace aeflow {

// The user gave something we cannot use: an option, a job file, a data file, a checkpoint.
// main() exits with code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// Something failed while running (a write, an MPI call, a library error). main() exits 1.
class RunError : public std::runtime_error {
 public:
  explicit RunError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace aeflow
