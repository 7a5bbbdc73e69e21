// Helpers shared by the tests: temporary directories, running the aeflow binary, and small
// synthetic MNIST-format data sets written as real IDX files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aeflow/base/error.hpp"

// Expects HAYSTACK to contain NEEDLE, printing HAYSTACK when it does not.
#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

// Skips the test, saying why; with AEFLOW_REQUIRE_ALL=1 in the environment (.ci/run: CI runs as
// root with every package installed) fails it instead, so that CI cannot go green on a
// capability it did not test (namespaces, mounts, h5py, ...). MESSAGE may chain with <<.
#define AEFLOW_SKIP_OR_REQUIRE(message)                                                  \
  do {                                                                                   \
    if (::aeflow::test::all_required())                                                  \
      FAIL() << message << " (AEFLOW_REQUIRE_ALL=1: this test may not be skipped here)"; \
    else                                                                                 \
      GTEST_SKIP() << message;                                                           \
  } while (0)

namespace aeflow::test {

// AEFLOW_REQUIRE_ALL=1 is set.
bool all_required();

// Runs F, expecting an exception of type E whose message contains every one of PARTS.
template <class E, class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an exception";
  } catch (const E& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
          << "'" << error.what() << "' lacks '" << part << "'";
  }
}

// Prints "aeflow-count NAME N" for scripts/test-summary.py, which sums each NAME over the run and
// prints the totals (the fault counts docs/reliability.md quotes).
void record_count(const std::string& name, long count);

// A fresh directory under $TMPDIR (or /tmp), unique per call.
std::string make_temp_dir(const std::string& tag);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs COMMAND with /bin/sh, capturing stdout and stderr.
CommandResult run_command(const std::string& command);

// Starts ARGV (no shell) with stdout and stderr to the file LOG; returns the pid, -1 if it cannot.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
// Waits up to SECONDS for PID; returns its exit code (128 + signal if killed), or -1 on timeout
// (then it is killed).
int wait_for(pid_t pid, double seconds);
// Waits until the file LOG holds TEXT (true), or PID ended or 120 s passed (false).
bool wait_for_text(pid_t pid, const std::string& log, const std::string& text);

// The test hosts (scripts/netns-hosts.sh) are one set per machine, with fixed names, addresses
// and bridge: a test that uses them holds this turn (a flock) while it does, so that tests that
// ctest runs at once take turns.
class TestHostsTurn {
 public:
  TestHostsTurn();  // blocks until the turn is this test's
  ~TestHostsTurn();
  TestHostsTurn(const TestHostsTurn&) = delete;
  TestHostsTurn& operator=(const TestHostsTurn&) = delete;

 private:
  int fd_ = -1;
};

// The aeflow binary built with the tests, and the source tree.
std::string aeflow_binary();
std::string source_dir();

// A whole text file ("" if it cannot be read).
std::string read_text(const std::string& path);

// Writes raw bytes, optionally gzip-compressed.
void write_file(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip = false);
std::vector<uint8_t> read_file(const std::string& path);

// IDX encodings (big-endian header) of images [count, rows, cols] and labels [count].
std::vector<uint8_t> idx_images(const std::vector<uint8_t>& pixels, uint32_t count, uint32_t rows,
                                uint32_t cols);
std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels);

// Learnable synthetic digits: each of 10 classes is a fixed blob pattern, each example that
// pattern shifted by a pixel or two with a little noise. Deterministic for a seed.
void synthetic_images(uint32_t count, uint32_t rows, uint32_t cols, uint64_t seed,
                      std::vector<uint8_t>& pixels, std::vector<uint8_t>& labels);

// Writes train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte (28x28) into DIR; returns DIR.
std::string write_synthetic_mnist(const std::string& dir, uint32_t train_count, uint32_t test_count,
                                  bool gzip = false);

// Writes a checkpoint of a freshly initialized, untrained model to PATH (ENCODER widths, the
// DECODER's hidden widths or the mirror, ReLU hidden layers, a linear code, a sigmoid output):
// enough for encode and decode, no training.
void write_initialized_checkpoint(const std::string& path, const std::vector<int>& encoder,
                                  uint64_t seed = 1,
                                  std::optional<std::vector<int>> decoder = std::nullopt);

// The message of the InputError that FN throws, or "(no InputError thrown)".
template <typename Fn>
std::string input_error(Fn fn) {
  try {
    fn();
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no InputError thrown)";
}

}  // namespace aeflow::test
