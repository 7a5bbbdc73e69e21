// The autoencoder as a stack of fully connected layers on oneDNN CPU primitives.
//
// Every layer is one matmul: forward_training is z = x W^T + b with the activation fused as a
// post-op (only its output y is kept); backward is an eltwise backward that needs only y, then
// backward-data (dz W) and backward-weights (dz^T x) as two more matmuls over strided views of
// the same weight memory. Tied decoder layers read the encoder's [out,in] matrix through a
// transposed view, so tying costs no copy. Parameters and gradients live in ONE flat buffer
// each (ModelSpec::layers() gives the offsets), so the optimizer and the all-reduce are one
// loop or call over a span. Primitives are built once per batch size and reused.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aeflow/model/model_spec.hpp"

namespace aeflow::model {

// Keys dropout masks to global positions, so the same model trains identically on any number
// of ranks: the mask of a row depends on (seed, step, global row), not on who computes it.
struct DropoutKey {
  uint64_t seed = 0;
  uint64_t step = 0;
  uint64_t first_global_row = 0;
};

// The type the matmuls compute in. bf16: mixed precision, oneDNN matmuls on bf16 copies of
// the weights, layer inputs and dz, accumulating in f32; parameters, gradients, activations
// and the optimizer stay f32 (so do checkpoints).
enum class Precision { kFp32, kBf16 };
Precision parse_precision(std::string_view name);  // throws InputError naming the choices
std::string to_string(Precision precision);

class Network {
 public:
  // With output_logits, the output layer applies no activation (the loss fuses its sigmoid,
  // as BCE from logits does); reconstruct() applies it when images are wanted.
  Network(const ModelSpec& spec, bool output_logits);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  const ModelSpec& spec() const { return spec_; }
  bool output_logits() const { return output_logits_; }
  std::span<float> parameters() { return parameters_; }
  std::span<const float> parameters() const { return parameters_; }
  std::span<float> gradients() { return gradients_; }
  const std::vector<LayerSpec>& layers() const { return layers_; }

  // Reads and writes parameters and gradients in the given memory (e.g. shared by the ranks
  // of a node) instead of its own, until use_own_buffers(). The content of PARAMETERS is used
  // as it is: the caller fills it. Empty GRADIENTS: its own.
  void use_buffers(std::span<float> parameters, std::span<float> gradients);
  // Back to its own memory, with the current parameters copied there.
  void use_own_buffers();

  // fp32 by default. Throws InputError if this CPU has no bf16 matmul.
  void set_precision(Precision precision);
  Precision precision() const { return precision_; }

  // bf16: the matmuls read a bf16 copy of the parameters, which forward makes afresh from the
  // f32 values on every call, unless use_bf16_copy(COPY) hands that job to the caller: COPY
  // (as long as parameters(): own_bf16_copy(), or memory the node's ranks share) is then what
  // the matmuls read, and the caller keeps it current (an optimizer step writing it as it
  // updates, refresh_bf16_copy for any other change). A training step is spared a pass over
  // the whole model (docs/performance.md). An empty COPY: the network's own, converted on every
  // forward again.
  void use_bf16_copy(std::span<uint16_t> copy);
  std::span<uint16_t> own_bf16_copy() { return own_parameters16_; }
  // The copy the matmuls read now (empty in fp32).
  std::span<const uint16_t> bf16_copy() const { return parameters16_; }
  // The bf16 copy's [begin, end) = parameters()[begin, end), rounded.
  void refresh_bf16_copy(size_t begin, size_t end);

  // Fills the parameters from the spec's init, from streams keyed by (seed, layer).
  void initialize(uint64_t seed);

  // input is [batch, input_width]. Returns the output [batch, input_width] (logits when
  // output_logits), valid until the next forward. training enables dropout and keeps what
  // backward needs.
  const float* forward(const float* input, int batch, bool training, const DropoutKey& key = {});

  // diff_output is d loss / d output of the last forward (training) over the same input.
  // Overwrites gradients() with d loss / d parameters. If given, on_ready(begin, end) is called
  // as soon as gradients()[begin, end) are final: one layer's parameters, last layer first, so
  // the caller can start reducing them while backward goes on. No later part of backward reads
  // parameters()[begin, end), so on_ready may also update them.
  using GradientsReady = std::function<void(size_t begin, size_t end)>;
  void backward(const float* input, const float* diff_output, int batch,
                const GradientsReady& on_ready = {});

  // The bottleneck activations of the last forward, [batch, code_width].
  const float* code() const;

  // Applies the output activation to logits in place (identity unless output_logits).
  void reconstruct(float* output, size_t count) const;

  // Encoder only: input [batch, input_width] -> code [batch, code_width] into out.
  void encode(const float* input, int batch, float* out);
  // Decoder only: code [batch, code_width] -> reconstruction [batch, input_width] into out.
  void decode(const float* code, int batch, float* out);

 private:
  struct Plan;  // oneDNN primitives and buffers for one batch size
  Plan& plan_for(int batch);
  void run_layers(Plan& plan, const float* input, int first, int last, bool training,
                  const DropoutKey& key);

  ModelSpec spec_;
  bool output_logits_;
  std::vector<LayerSpec> layers_;
  std::vector<float> own_parameters_;
  std::vector<float> own_gradients_;
  std::span<float> parameters_;  // own_parameters_, or memory given to use_buffers
  std::span<float> gradients_;
  Precision precision_ = Precision::kFp32;
  std::vector<uint16_t> own_parameters16_;  // bf16: a copy of the parameters for the matmuls
  std::span<uint16_t> parameters16_;        // own_parameters16_, or memory use_bf16_copy gave
  bool bf16_copy_kept_by_caller_ = false;
  struct Engine;
  std::unique_ptr<Engine> engine_;
  std::map<int, std::unique_ptr<Plan>> plans_;
  Plan* last_plan_ = nullptr;
};

}  // namespace aeflow::model
