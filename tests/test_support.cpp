#include "test_support.hpp"

#include <zlib.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "aeflow/base/random.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/model/network.hpp"

extern char** environ;

namespace aeflow::test {

using Clock = std::chrono::steady_clock;

bool all_required() {
  const char* value = std::getenv("AEFLOW_REQUIRE_ALL");
  return value && std::string(value) == "1";
}

void record_count(const std::string& name, long count) {
  std::printf("aeflow-count %s %ld\n", name.c_str(), count);
  std::fflush(stdout);
}

std::string make_temp_dir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path dir =
      std::filesystem::path(base ? base : "/tmp") /
      ("aeflow-test-" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string aeflow_binary() {
  return AEFLOW_BINARY;
}
std::string source_dir() {
  return AEFLOW_SOURCE_DIR;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes, bool gzip) {
  if (gzip) {
    gzFile file = gzopen(path.c_str(), "wb");
    if (!file) throw std::runtime_error("cannot write " + path);
    if (!bytes.empty() && gzwrite(file, bytes.data(), unsigned(bytes.size())) != int(bytes.size()))
      throw std::runtime_error("gzwrite failed: " + path);
    gzclose(file);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

namespace {
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}
}  // namespace

std::vector<uint8_t> idx_images(const std::vector<uint8_t>& pixels, uint32_t count, uint32_t rows,
                                uint32_t cols) {
  std::vector<uint8_t> out;
  put_u32(out, 0x00000803);
  put_u32(out, count);
  put_u32(out, rows);
  put_u32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out;
  put_u32(out, 0x00000801);
  put_u32(out, uint32_t(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

void synthetic_images(uint32_t count, uint32_t rows, uint32_t cols, uint64_t seed,
                      std::vector<uint8_t>& pixels, std::vector<uint8_t>& labels) {
  // Ten class prototypes: two Gaussian blobs each, placed by a fixed stream.
  RandomStream layout(12345, RandomPurpose::kTest, 1);
  std::array<std::array<float, 4>, 10> blobs;  // y1, x1, y2, x2
  for (auto& b : blobs)
    for (float& v : b) v = 6.0f + layout.uniform() * float(std::min(rows, cols) - 12);
  RandomStream rng(seed, RandomPurpose::kTest, 2);
  pixels.assign(size_t(count) * rows * cols, 0);
  labels.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t label = uint32_t(rng.below(10));
    labels[i] = uint8_t(label);
    const float dy = float(rng.below(5)) - 2.0f, dx = float(rng.below(5)) - 2.0f;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < cols; ++c) {
        float v = 0;
        for (int k = 0; k < 2; ++k) {
          const float y = float(r) - blobs[label][2 * k] - dy;
          const float x = float(c) - blobs[label][2 * k + 1] - dx;
          v += std::exp(-(x * x + y * y) / 8.0f);
        }
        v = std::min(1.0f, v + 0.05f * rng.uniform());
        pixels[(size_t(i) * rows + r) * cols + c] = uint8_t(v * 255.0f + 0.5f);
      }
  }
}

std::string write_synthetic_mnist(const std::string& dir, uint32_t train_count, uint32_t test_count,
                                  bool gzip) {
  std::filesystem::create_directories(dir);
  const std::string suffix = gzip ? ".gz" : "";
  std::vector<uint8_t> pixels, labels;
  synthetic_images(train_count, 28, 28, 1, pixels, labels);
  write_file(dir + "/train-images-idx3-ubyte" + suffix, idx_images(pixels, train_count, 28, 28),
             gzip);
  write_file(dir + "/train-labels-idx1-ubyte" + suffix, idx_labels(labels), gzip);
  synthetic_images(test_count, 28, 28, 2, pixels, labels);
  write_file(dir + "/t10k-images-idx3-ubyte" + suffix, idx_images(pixels, test_count, 28, 28),
             gzip);
  write_file(dir + "/t10k-labels-idx1-ubyte" + suffix, idx_labels(labels), gzip);
  return dir;
}

void write_initialized_checkpoint(const std::string& path, const std::vector<int>& encoder,
                                  uint64_t seed, std::optional<std::vector<int>> decoder) {
  io::CheckpointData checkpoint;
  checkpoint.config_ini = "# an initialized, untrained test model\n";
  checkpoint.spec.encoder = encoder;
  checkpoint.spec.decoder = std::move(decoder);
  checkpoint.spec.hidden = model::Activation::kRelu;
  checkpoint.spec.code = model::Activation::kLinear;
  checkpoint.loss = "mse";
  checkpoint.optimizer = "sgd";
  model::Network network(checkpoint.spec, false);
  network.initialize(seed);
  const std::span<const float> parameters = network.parameters();
  const std::vector<model::LayerSpec> layers = checkpoint.spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const model::LayerSpec& layer = layers[i];
    char name[32];
    std::snprintf(name, sizeof name, "layer_%02zu/", i);
    const size_t in = size_t(layer.in), out = size_t(layer.out);
    if (layer.tied_to < 0)
      checkpoint.parameters.push_back(
          {std::string(name) + "weight",
           {out, in},
           {parameters.begin() + long(layer.weight_offset),
            parameters.begin() + long(layer.weight_offset + out * in)}});
    checkpoint.parameters.push_back({std::string(name) + "bias",
                                     {out},
                                     {parameters.begin() + long(layer.bias_offset),
                                      parameters.begin() + long(layer.bias_offset + out)}});
  }
  io::write_checkpoint(path, checkpoint);
}

}  // namespace aeflow::test

namespace aeflow::test {
namespace {
// Tests launch mpirun themselves; as root (CI, containers) OpenMPI refuses without these, and
// ctest's ENVIRONMENT property cannot carry a list through gtest_discover_tests.
struct MpiTestEnvironment {
  MpiTestEnvironment() {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
    setenv("OMP_NUM_THREADS", "1", 0);
  }
} const mpi_test_environment;
}  // namespace
// Starts ARGV with stdout and stderr to LOG; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits up to SECONDS for PID; returns its exit code (128 + signal if killed), or -1 on timeout
// (then it is killed).
int wait_for(pid_t pid, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

// Waits until LOG holds TEXT (true), or PID ended or 120 s passed (false).
bool wait_for_text(pid_t pid, const std::string& log, const std::string& text) {
  // (a deadline only a failure reaches: 30 s was too short for mpiexec to start two ranks on a
  // 2-core machine that also ran a 2-rank training and a build)
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    if (read_text(log).find(text) != std::string::npos) return true;
    if (kill(pid, 0) != 0) return false;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

TestHostsTurn::TestHostsTurn()
    : fd_(::open("/tmp/aeflow-netns-hosts.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
  if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
    throw std::runtime_error("cannot take the test hosts' lock /tmp/aeflow-netns-hosts.lock");
}

TestHostsTurn::~TestHostsTurn() {
  if (fd_ >= 0) ::close(fd_);  // (and with it the lock)
}

}  // namespace aeflow::test
