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
  // Decoupled weight decay (Loshchilov & Hutter's AdamW, for every optimizer): before its update
  // each parameter shrinks, p *= 1 - lr * weight_decay; biases too, as PyTorch's AdamW does by
  // default. 0: none.
  float weight_decay = 0.0f;
};

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, size_t parameter_count);

  const OptimizerConfig& config() const { return config_; }
  int64_t steps() const { return steps_; }

  // One update of params with grads at learning rate lr. With PARAMS16 (as long as PARAMS), it
  // also writes the bf16 copy of every updated parameter there, rounded as Network rounds it
  // (the matmuls' copy under --precision bf16, made while the values are in cache).
  void step(std::span<float> params, std::span<const float> grads, float lr,
            std::span<uint16_t> params16 = {}) {
    begin_step();
    update(0, params, grads, lr, params16);
  }
  // The same step in pieces: begin_step(), then update() over ranges that together cover the
  // buffer once; PARAMS and GRADS are elements [offset, offset + size) of the flat buffers.
  // Every element's arithmetic is the same as step()'s, so the result is bit-for-bit equal; the
  // pieces let a rank update only its own slice, a cache-sized block at a time.
  void begin_step() { ++steps_; }
  void update(size_t offset, std::span<float> params, std::span<const float> grads, float lr,
              std::span<uint16_t> params16 = {});

  // Named state arrays ("velocity", "mean_square", "accumulator", "m", "v"; none for SGD), one
  // value per parameter in parameter order: what checkpoints hold. state() copies them out.
  struct State {
    std::string name;
    std::vector<float> values;
  };
  std::vector<State> state() const;
  // Sets one array; throws InputError for an unknown name or a wrong size.
  void set_state(std::string_view name, std::span<const float> values);
  void set_steps(int64_t steps) { steps_ = steps; }

  // The state as stored: by blocks of kStateBlock parameters, each block holding its values of
  // every state array in turn (Adam: 16 m, then 16 v). Parameters [b, e), with b a multiple of
  // kStateBlock, are stored at [b * arrays, ...): e * arrays, or the end for the last block.
  static constexpr size_t kStateBlock = 16;
  // Where state array A (of ARRAYS) holds parameter K's value in stored_state().
  static size_t stored_at(size_t k, size_t a, size_t arrays) {
    return (k / kStateBlock * arrays + a) * kStateBlock + k % kStateBlock;
  }
  std::span<float> stored_state() { return stored_; }
  size_t state_arrays() const { return names_.size(); }

 private:
  void update_piece(size_t offset, float* params, const float* grads, uint16_t* params16, size_t n,
                    float lr);

  OptimizerConfig config_;
  int64_t steps_ = 0;
  size_t count_ = 0;
  std::vector<std::string> names_;
  std::vector<float> stored_;
};

}  // namespace aeflow::model
