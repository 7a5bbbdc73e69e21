// First-order optimizers over the flat parameter buffer: one loop over one span, whatever the
// model. Their state (moments, accumulators) are flat buffers of the same length, exposed by
// name so a checkpoint can save and restore them exactly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aeflow::model {

enum class OptimizerKind { kSgd, kMomentum, kRmsprop, kAdagrad, kAdam };
OptimizerKind parse_optimizer(std::string_view name);  // throws InputError naming the choices
std::string to_string(OptimizerKind kind);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kAdam;
  float momentum = 0.9f;  // momentum: v = mu v + g; p -= lr v (nesterov: p -= lr (g + mu v))
  bool nesterov = false;
  float rho = 0.9f;                  // rmsprop: s = rho s + (1-rho) g^2; p -= lr g/(sqrt(s)+eps)
  float initial_accumulator = 0.1f;  // adagrad: a starts here; a += g^2; p -= lr g/(sqrt(a)+eps)
  float beta1 = 0.9f;                // adam
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
};

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, size_t parameter_count);

  const OptimizerConfig& config() const { return config_; }
  int64_t steps() const { return steps_; }

  // One update of params with grads at learning rate lr.
  void step(std::span<float> params, std::span<const float> grads, float lr) {
    begin_step();
    update(0, params, grads, lr);
  }
  // The same step in pieces: begin_step(), then update() over ranges that together cover the
  // buffer once; PARAMS and GRADS are elements [offset, offset + size) of the flat buffers.
  // Every element's arithmetic is the same as step()'s, so the result is bit-for-bit equal; the
  // pieces let a rank update only its own slice, a cache-sized block at a time.
  void begin_step() { ++steps_; }
  void update(size_t offset, std::span<float> params, std::span<const float> grads, float lr);

  // Named state buffers ("velocity", "mean_square", "accumulator", "m", "v"); empty for SGD.
  struct State {
    std::string name;
    std::vector<float>* values;
  };
  std::vector<State> state();
  void set_steps(int64_t steps) { steps_ = steps; }

 private:
  void update_piece(size_t offset, float* params, const float* grads, size_t n, float lr);

  OptimizerConfig config_;
  int64_t steps_ = 0;
  std::vector<float> first_;   // velocity, mean square, accumulator, or Adam's m
  std::vector<float> second_;  // Adam's v
};

}  // namespace aeflow::model
