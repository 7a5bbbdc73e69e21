// Shapes, for a layer with `in` inputs, `out` outputs and a batch of B rows:
//   x [B,in]   W [out,in] (a tied decoder layer reads its encoder layer's [in,out] matrix)
//   z = x W^T + b [B,out]   y = act(z) [B,out]   (z is stored only where act's backward reads
//   it: SiLU, GELU; otherwise act is the matmul's post-op)
//   dz = act'(z) * dy [B,out], act' from y (from z for SiLU, GELU)   db = sum_rows(dz)
//   dW = dz^T x   dx = dz W
#include "aeflow/model/network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <utility>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "bf16_rounding.hpp"
#include "dropout.hpp"
#include "layer_primitives.hpp"
#include "loss_kernels.hpp"
#include "matrix_kernels.hpp"

namespace aeflow::model {
namespace {

using dnnl::memory;
using dt = memory::data_type;

// The range of the flat buffers a layer owns: its bias, and its weight unless tied (a tied
// decoder layer adds into the encoder's weight, which is final once that layer is done).
// Backward reports these ranges, last layer first; together they cover the buffer once.
std::pair<size_t, size_t> own_parameters(const LayerSpec& layer) {
  return {layer.tied_to >= 0 ? layer.bias_offset : layer.weight_offset,
          layer.bias_offset + size_t(layer.out)};
}

}  // namespace

struct Network::Engine : CpuEngine {};

// Everything one batch size needs: primitives with their memory descriptors, and buffers.
struct Network::Plan {
  using Args = std::unordered_map<int, memory>;
  struct Layer {
    bool activated = false;  // an activation is applied (fused or separate, eltwise backward)
    memory::desc x_md, y_md, bias_md, w_forward_md, w_backward_md;
    memory::desc dw_a_md, dw_b_md, dw_md;      // backward weights: dW = A B
    dnnl::matmul forward;                      // writes y, or z where the activation is separate
    dnnl::eltwise_forward activation_forward;  // z to y: only where the backward reads z
    dnnl::eltwise_backward activation_backward;
    dnnl::matmul backward_weights;
    dnnl::matmul backward_data;  // absent for the first layer: no one needs d loss / d input
    std::vector<float> z;        // pre-activation: only where the backward reads it
    std::vector<float> y;        // activation output
    std::vector<float> dropped;  // y * mask, what the next layer reads (dropout layers only)
    std::vector<float> mask;     // 0 or 1/(1-rate)
    std::vector<float> dy;       // d loss / d (this layer's output as the next layer read it)
    std::vector<float> dz;       // d loss / d pre-activation
    // Each primitive's arguments, bound once to the buffers above and to the parameter and
    // gradient buffers; only the memory objects of the layer's input (x, and x^T or x in the
    // backward-weights matmul) are re-pointed per call (the input of the first layer run
    // changes). Building argument maps and memory objects per execution cost ~1 us each.
    Args forward_args, activation_forward_args, activation_args, weights_args, data_args;
    memory x, weights_x;
    // bf16: the matmuls read bf16 copies of their operands (results and gradients stay f32).
    std::vector<uint16_t> x16;   // this layer's input [B,in]
    std::vector<uint16_t> dz16;  // its dz [B,out]
    dnnl::reorder to16_x, to16_dz;
    memory x16_mem, dz_mem, dz16_mem;
    const float* output() const { return dropped.empty() ? y.data() : dropped.data(); }
    float* gradient_out() { return activated ? dz.data() : dy.data(); }  // dz, or dy if linear
  };
  int batch = 0;
  std::vector<Layer> layers;
  bool dropout_applied = false;  // the last forward was a training one with dropout
};

Network::Network(const ModelSpec& spec, bool output_logits)
    : spec_(spec), output_logits_(output_logits), engine_(std::make_unique<Engine>()) {
  spec_.validate();
  layers_ = spec_.layers();
  own_parameters_.assign(spec_.parameter_count(), 0.f);
  own_gradients_.assign(spec_.parameter_count(), 0.f);
  parameters_ = own_parameters_;
  gradients_ = own_gradients_;
}

void Network::use_buffers(std::span<float> parameters, std::span<float> gradients) {
  if (gradients.empty()) gradients = own_gradients_;
  if (parameters.size() != own_parameters_.size() || gradients.size() != own_gradients_.size())
    throw RunError("Network::use_buffers: buffers of the wrong size");
  parameters_ = parameters;
  gradients_ = gradients;
  plans_.clear();  // their primitives' arguments point into the old buffers
  last_plan_ = nullptr;
}

void Network::set_precision(Precision precision) {
  if (precision == precision_) return;
  if (precision == Precision::kBf16) {
    const dnnl::engine& eng = engine_->engine;
    try {
      // A bf16 matmul is what the CPU must support (oneDNN: AVX-512 at least).
      dnnl::matmul({{plain(1, 16, dt::bf16), plain(16, 16, dt::bf16), plain(1, 16)}, eng});
    } catch (const dnnl::error&) {
      throw InputError(
          "--precision bf16: oneDNN has no bf16 matmul for this CPU (it needs AVX-512, and "
          "AVX512_BF16 to be fast); use --precision fp32");
    }
    own_parameters16_.assign(own_parameters_.size(), 0);
  } else {
    own_parameters16_.clear();
  }
  parameters16_ = own_parameters16_;
  bf16_copy_kept_by_caller_ = false;
  precision_ = precision;
  plans_.clear();
  last_plan_ = nullptr;
}

void Network::use_bf16_copy(std::span<uint16_t> copy) {
  if (precision_ != Precision::kBf16 && !copy.empty())
    throw RunError("Network::use_bf16_copy: the network computes in fp32");
  if (!copy.empty() && copy.size() != parameters_.size())
    throw RunError("Network::use_bf16_copy: a copy of the wrong size");
  parameters16_ = copy.empty() ? std::span<uint16_t>(own_parameters16_) : copy;
  bf16_copy_kept_by_caller_ = !copy.empty();
  plans_.clear();  // their primitives' arguments point into the old copy
  last_plan_ = nullptr;
}

void Network::refresh_bf16_copy(size_t begin, size_t end) {
  if (precision_ != Precision::kBf16) return;
  if (begin > end || end > parameters_.size())
    throw RunError("Network::refresh_bf16_copy: a range outside the parameters");
  kernels::round_to_bf16(parameters_.data() + begin, end - begin, parameters16_.data() + begin);
}

Precision parse_precision(std::string_view name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  throw InputError("unknown precision '" + std::string(name) + "': expected fp32 or bf16");
}

std::string to_string(Precision precision) {
  return precision == Precision::kBf16 ? "bf16" : "fp32";
}

void Network::use_own_buffers() {
  if (parameters_.data() == own_parameters_.data()) return;
  std::copy(parameters_.begin(), parameters_.end(), own_parameters_.begin());
  use_buffers(own_parameters_, own_gradients_);
}

Network::~Network() = default;

void Network::initialize(uint64_t seed) {
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec& layer = layers_[i];
    RandomStream rng(seed, RandomPurpose::kInit, i);
    if (layer.tied_to < 0) {
      float* w = parameters_.data() + layer.weight_offset;
      const size_t n = size_t(layer.in) * layer.out;
      if (spec_.init.kind == InitKind::kGlorotUniform) {
        const float limit = std::sqrt(6.0f / float(layer.in + layer.out));
        for (size_t k = 0; k < n; ++k) w[k] = (2.0f * rng.uniform() - 1.0f) * limit;
      } else {
        for (size_t k = 0; k < n; ++k) {
          float v;
          do v = rng.normal();
          while (std::fabs(v) > 2.0f);  // truncated at two standard deviations
          w[k] = v * spec_.init.stddev;
        }
      }
    }
    std::fill_n(parameters_.data() + layer.bias_offset, layer.out, spec_.init.bias);
  }
}

Network::Plan& Network::plan_for(int batch) {
  auto found = plans_.find(batch);
  if (found != plans_.end()) return *found->second;
  auto plan = std::make_unique<Plan>();
  plan->batch = batch;
  const dnnl::engine& eng = engine_->engine;
  const memory::dim B = batch;
  const int count = int(layers_.size());
  const bool half = precision_ == Precision::kBf16;
  const dt low = half ? dt::bf16 : dt::f32;  // the matmuls' operand type
  for (int i = 0; i < count; ++i) {
    const LayerSpec& spec = layers_[i];
    const memory::dim in = spec.in, out = spec.out;
    const bool tied = spec.tied_to >= 0;
    Plan::Layer layer;
    layer.activated = spec.activation != Activation::kLinear && !(i == count - 1 && output_logits_);
    layer.x_md = plain(B, in);
    layer.y_md = plain(B, out);
    layer.bias_md = plain(1, out);
    const memory::desc src_md = plain(B, in, low), dz_md = plain(B, out, low);

    // Forward reads W [out,in] (or the tied encoder matrix [in,out]) as an [in,out] view.
    layer.w_forward_md = tied ? matrix(in, out, out, 1, low) : matrix(in, out, 1, in, low);
    dnnl::primitive_attr forward_attr;
    if (layer.activated) {
      const EltwiseAlgs algs = eltwise_algs(spec.activation);
      if (algs.backward_reads_input) {
        layer.activation_forward = activation_forward(algs, layer.y_md, eng);
        layer.z.assign(size_t(B) * size_t(out), 0.f);
      } else {
        forward_attr = with_activation(algs);
      }
      layer.activation_backward = activation_backward(algs, layer.y_md, eng);
    }
    layer.forward =
        dnnl::matmul({{src_md, layer.w_forward_md, layer.bias_md, layer.y_md}, forward_attr, eng});

    // Backward weights. Untied: dW[out,in] = dz^T x. Tied: dWenc[in,out] = x^T dz.
    // A tied encoder matrix gets gradients from two layers; the decoder's comes first
    // (backward runs in reverse), so the encoder layer accumulates with a sum post-op.
    bool accumulate = false;
    for (int j = i + 1; j < count; ++j) accumulate |= layers_[j].tied_to == i;
    dnnl::primitive_attr weights_attr;
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      weights_attr.set_post_ops(ops);
    }
    if (tied) {
      layer.dw_a_md = matrix(in, B, 1, in, low);  // x^T
      layer.dw_b_md = plain(B, out, low);         // dz
      layer.dw_md = plain(in, out);
    } else {
      layer.dw_a_md = matrix(out, B, 1, out, low);  // dz^T
      layer.dw_b_md = plain(B, in, low);            // x
      layer.dw_md = plain(out, in);
    }
    layer.backward_weights =
        dnnl::matmul({{layer.dw_a_md, layer.dw_b_md, layer.dw_md}, weights_attr, eng});

    // Backward data: dx[B,in] = dz[B,out] W, the weight viewed as [out,in].
    if (i > 0) {
      layer.w_backward_md = tied ? matrix(out, in, 1, out, low) : matrix(out, in, in, 1, low);
      layer.backward_data = dnnl::matmul({{dz_md, layer.w_backward_md, layer.x_md}, eng});
    }
    if (half) {
      layer.to16_x = dnnl::reorder({eng, layer.x_md, eng, src_md});
      layer.to16_dz = dnnl::reorder({eng, layer.y_md, eng, dz_md});
      layer.x16.assign(size_t(B) * size_t(in), 0);
      layer.dz16.assign(size_t(B) * size_t(out), 0);
    }

    const size_t n = size_t(B) * out;
    layer.y.assign(n, 0.f);
    layer.dy.assign(n, 0.f);
    layer.dz.assign(n, 0.f);
    if (spec.dropout) {
      layer.dropped.assign(n, 0.f);
      layer.mask.assign(n, 0.f);
    }
    plan->layers.push_back(std::move(layer));
  }
  // Bind the arguments, now that every layer's buffers have their final addresses.
  for (int i = 0; i < count; ++i) {
    const LayerSpec& spec = layers_[i];
    Plan::Layer& layer = plan->layers[i];
    const bool tied = spec.tied_to >= 0;
    // The matmuls' operands: f32, or their bf16 copies (fixed buffers: set once here).
    void* w = half ? static_cast<void*>(parameters16_.data() + spec.weight_offset)
                   : static_cast<void*>(parameters_.data() + spec.weight_offset);
    float* dw = gradients_.data() + spec.weight_offset;
    float* dz = layer.gradient_out();
    void* dz_operand_data = half ? static_cast<void*>(layer.dz16.data()) : dz;
    layer.x = memory(layer.x_md, eng, nullptr);
    layer.weights_x =
        memory(tied ? layer.dw_a_md : layer.dw_b_md, eng, half ? layer.x16.data() : nullptr);
    if (half) {
      layer.x16_mem = memory(plain(B, spec.in, dt::bf16), eng, layer.x16.data());
      layer.dz_mem = memory(layer.y_md, eng, dz);
      layer.dz16_mem = memory(plain(B, spec.out, dt::bf16), eng, layer.dz16.data());
    }
    layer.forward_args = {
        {DNNL_ARG_SRC, half ? layer.x16_mem : layer.x},
        {DNNL_ARG_WEIGHTS, memory(layer.w_forward_md, eng, w)},
        {DNNL_ARG_BIAS, memory(layer.bias_md, eng, parameters_.data() + spec.bias_offset)},
        {DNNL_ARG_DST, memory(layer.y_md, eng, layer.z.empty() ? layer.y.data() : layer.z.data())}};
    if (!layer.z.empty())
      layer.activation_forward_args = {{DNNL_ARG_SRC, memory(layer.y_md, eng, layer.z.data())},
                                       {DNNL_ARG_DST, memory(layer.y_md, eng, layer.y.data())}};
    if (layer.activated)
      layer.activation_args = {
          {DNNL_ARG_DIFF_DST, memory(layer.y_md, eng, layer.dy.data())},
          layer.z.empty() ? std::pair{DNNL_ARG_DST, memory(layer.y_md, eng, layer.y.data())}
                          : std::pair{DNNL_ARG_SRC, memory(layer.y_md, eng, layer.z.data())},
          {DNNL_ARG_DIFF_SRC, memory(layer.y_md, eng, dz)}};
    const memory dz_operand(tied ? layer.dw_b_md : layer.dw_a_md, eng, dz_operand_data);
    layer.weights_args = {{DNNL_ARG_SRC, tied ? layer.weights_x : dz_operand},
                          {DNNL_ARG_WEIGHTS, tied ? dz_operand : layer.weights_x},
                          {DNNL_ARG_DST, memory(layer.dw_md, eng, dw)}};
    if (i > 0)
      layer.data_args = {{DNNL_ARG_SRC, memory(plain(B, spec.out, low), eng, dz_operand_data)},
                         {DNNL_ARG_WEIGHTS, memory(layer.w_backward_md, eng, w)},
                         {DNNL_ARG_DST, memory(layer.x_md, eng, plan->layers[i - 1].dy.data())}};
  }
  Plan& result = *plan;
  plans_.emplace(batch, std::move(plan));
  return result;
}

void Network::run_layers(Plan& plan, const float* input, int first, int last, bool training,
                         const DropoutKey& key) {
  dnnl::stream& stream = engine_->stream;
  plan.dropout_applied = training && spec_.dropout > 0;
  const float keep = 1.0f - spec_.dropout;
  const bool half = precision_ == Precision::kBf16;
  // The parameters may have changed since the last call: a fresh bf16 copy, unless the
  // caller keeps it current.
  if (half && !bf16_copy_kept_by_caller_) refresh_bf16_copy(0, parameters_.size());
  const float* x = input;
  for (int i = first; i < last; ++i) {
    const LayerSpec& spec = layers_[i];
    Plan::Layer& layer = plan.layers[i];
    layer.x.set_data_handle(const_cast<float*>(x));
    if (half) layer.to16_x.execute(stream, layer.x, layer.x16_mem);
    layer.forward.execute(stream, layer.forward_args);
    if (!layer.z.empty()) layer.activation_forward.execute(stream, layer.activation_forward_args);
    if (spec.dropout) {
      if (plan.dropout_applied) {
        const size_t out = size_t(spec.out);
        for (int r = 0; r < plan.batch; ++r)
          dropout_mask(key, i, key.first_global_row + uint64_t(r), 0, out, keep,
                       layer.mask.data() + r * out);
        for (size_t k = 0; k < layer.y.size(); ++k) layer.dropped[k] = layer.y[k] * layer.mask[k];
      } else {
        std::copy(layer.y.begin(), layer.y.end(), layer.dropped.begin());
      }
    }
    x = layer.output();
  }
  stream.wait();
}

const float* Network::forward(const float* input, int batch, bool training, const DropoutKey& key) {
  if (batch <= 0) return nullptr;
  Plan& plan = plan_for(batch);
  run_layers(plan, input, 0, int(layers_.size()), training, key);
  last_plan_ = &plan;
  return plan.layers.back().output();
}

void Network::backward(const float* input, const float* diff_output, int batch,
                       const GradientsReady& on_ready) {
  if (batch <= 0) {  // an empty shard: zero gradients, reported layer by layer like any other
    std::fill(gradients_.begin(), gradients_.end(), 0.0f);
    if (on_ready)
      for (int i = int(layers_.size()) - 1; i >= 0; --i) {
        const auto [begin, end] = own_parameters(layers_[i]);
        on_ready(begin, end);
      }
    return;
  }
  Plan& plan = plan_for(batch);
  if (last_plan_ != &plan) throw RunError("Network::backward without a matching forward");
  dnnl::stream& stream = engine_->stream;
  // No gradient buffer is cleared first: every weight gradient is written by its matmul
  // (a tied encoder weight is written by the decoder layer, then accumulated into), and every
  // bias gradient by column_sums.
  const int count = int(layers_.size());
  for (int i = count - 1; i >= 0; --i) {
    const LayerSpec& spec = layers_[i];
    Plan::Layer& layer = plan.layers[i];
    const size_t n = layer.y.size();
    // d loss / d y: the loss's gradient for the output layer, else what layer i+1 wrote.
    float* dy = layer.dy.data();
    if (i == count - 1) std::copy_n(diff_output, n, dy);
    if (spec.dropout && plan.dropout_applied)
      for (size_t k = 0; k < n; ++k) dy[k] *= layer.mask[k];
    if (layer.activated) layer.activation_backward.execute(stream, layer.activation_args);
    kernels::column_sums(layer.gradient_out(), size_t(plan.batch), size_t(spec.out),
                         gradients_.data() + spec.bias_offset);
    if (precision_ == Precision::kBf16) {  // (and reads the bf16 copy of x forward made)
      layer.to16_dz.execute(stream, layer.dz_mem, layer.dz16_mem);
    } else {
      const float* x = i == 0 ? input : plan.layers[i - 1].output();
      layer.weights_x.set_data_handle(const_cast<float*>(x));
    }
    layer.backward_weights.execute(stream, layer.weights_args);
    if (i > 0) layer.backward_data.execute(stream, layer.data_args);
    stream.wait();
    if (on_ready) {  // this layer's own parameters are final now
      const auto [begin, end] = own_parameters(spec);
      on_ready(begin, end);
    }
  }
}

const float* Network::code() const {
  if (!last_plan_) return nullptr;
  return last_plan_->layers[spec_.encoder_layers() - 1].y.data();
}

void Network::reconstruct(float* output, size_t count) const {
  if (!output_logits_) return;
  kernels::sigmoid(output, count);
}

void Network::encode(const float* input, int batch, float* out) {
  if (batch <= 0) return;
  Plan& plan = plan_for(batch);
  const int n = spec_.encoder_layers();
  run_layers(plan, input, 0, n, false, {});
  last_plan_ = nullptr;
  std::copy(plan.layers[n - 1].y.begin(), plan.layers[n - 1].y.end(), out);
}

void Network::decode(const float* code, int batch, float* out) {
  if (batch <= 0) return;
  Plan& plan = plan_for(batch);
  run_layers(plan, code, spec_.encoder_layers(), spec_.layer_count(), false, {});
  last_plan_ = nullptr;
  const auto& y = plan.layers.back().y;
  std::copy(y.begin(), y.end(), out);
  reconstruct(out, y.size());
}

}  // namespace aeflow::model
