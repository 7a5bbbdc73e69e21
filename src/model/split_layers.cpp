// Shapes, for layer i with `in` inputs, `out` outputs, this rank's n = |own| output columns and
// the node's batch of B rows:
//   x [B,in] shared   W[own] [n,in] (rows of W [out,in])
//   z_own, y_own, dy_own, dz_own [B,n] private
//   y [B,out] shared: every rank's y_own (after dropout), what layer i+1 reads (bf16 under bf16)
//   part_r [B,in] shared: dz_own W[own], one per rank; dy of layer i-1 = sum over r
// A tied layer d's W[own] is columns own of its encoder layer e's W_e [in,out] (rows: other
// ranks'), read through strided views; its dz [B,out] is shared (every rank's dz_own), and
// layer e adds x_d[:, own_e]^T dz_d to its rows dW_e[own_e] [n_e, in_e].
#include "aeflow/model/split_layers.hpp"

#include <algorithm>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "aeflow/base/error.hpp"
#include "aeflow/base/random.hpp"
#include "bf16_rounding.hpp"
#include "dropout.hpp"
#include "layer_primitives.hpp"
#include "matrix_kernels.hpp"

namespace aeflow::model {
namespace {

using dnnl::memory;
using dt = dnnl::memory::data_type;

constexpr size_t kLine = 16;  // floats in a cache line: shared regions start on one
size_t lines(size_t floats) {
  return (floats + kLine - 1) / kLine * kLine;
}

// Rank q of SIZE owns columns [result[q], result[q + 1]) of OUT. Wide layers whose output is
// shared split on multiples of a cache line's values (LINE: 16 f32, 32 bf16), so ranks rarely
// write the same cache line of a shared row (never when OUT is a multiple of LINE too); the
// output layer (private, LINE 1) splits evenly: 784 as 392 + 392, not 384 + 400, which made one
// rank wait.
std::vector<int> split_columns(int out, int size, int line) {
  const int unit = out >= line * size ? line : 1;
  const int units = (out + unit - 1) / unit;
  std::vector<int> columns(size_t(size) + 1);
  for (int q = 0; q <= size; ++q) columns[size_t(q)] = std::min(out, units * q / size * unit);
  return columns;
}

// Copies a [rows, n] matrix of BYTES-sized values into columns [begin, begin + n) of the
// [rows, width] matrix at TO.
void copy_into_columns(const void* from, size_t rows, size_t n, void* to, size_t begin,
                       size_t width, size_t bytes) {
  for (size_t r = 0; r < rows && n > 0; ++r)
    std::memcpy(static_cast<char*>(to) + (r * width + begin) * bytes,
                static_cast<const char*>(from) + r * n * bytes, n * bytes);
}

}  // namespace

struct SplitLayers::Engine : CpuEngine {};

struct SplitLayers::Plan {
  using Args = std::unordered_map<int, memory>;
  struct Layer {
    int begin = 0, n = 0;    // this rank's output columns [begin, begin + n)
    bool activated = false;  // an activation is applied (eltwise backward)
    dnnl::matmul forward, backward_weights, backward_data;
    dnnl::matmul tied_weights;  // an encoder layer with a tied decoder: its term of dW[own]
    dnnl::eltwise_forward activation_forward;  // where backward reads z; else fused in forward
    dnnl::eltwise_backward activation_backward;
    Args forward_args, activation_forward_args, activation_args, weights_args, data_args, tied_args;
    std::vector<float> z, y, dy, dz;  // [B, n]; z only where backward reads it, dz when activated
    std::vector<float> mask;          // dropout: 0 or 1/(1-rate), [B, n]
    std::vector<uint16_t> dz16;       // bf16: gradient_out() as the backward matmuls read it
    float* gradient_out() { return activated ? dz.data() : dy.data(); }
  };
  size_t rows = 0;
  std::vector<Layer> layers;
  std::vector<uint16_t> input16;  // bf16: the node's batch as layer 0 reads it, [B, width]
  bool dropout_applied = false;
};

SplitLayers::SharedLayout SplitLayers::shared_layout(const ModelSpec& spec, size_t max_rows,
                                                     int group_size, bool bf16) {
  const auto layers = spec.layers();
  SharedLayout at;
  size_t end = 0;
  auto take = [&](size_t floats) {
    const size_t begin = end;
    end += lines(floats);
    return begin;
  };
  at.input = take(max_rows * size_t(spec.input_width()));
  at.target = take(max_rows * size_t(spec.input_width()));
  for (size_t i = 0; i < layers.size(); ++i) {
    const size_t values = max_rows * size_t(layers[i].out);
    at.output.push_back(i + 1 == layers.size() ? end : take(bf16 ? (values + 1) / 2 : values));
    at.part_stride.push_back(lines(max_rows * size_t(layers[i].in)));
    at.parts.push_back(i > 0 ? take(size_t(group_size) * at.part_stride.back()) : end);
    at.dz.push_back(layers[i].tied_to >= 0 ? take(bf16 ? (values + 1) / 2 : values) : end);
  }
  at.total = end;
  return at;
}

size_t SplitLayers::shared_floats(const ModelSpec& spec, size_t max_rows, int group_size,
                                  Precision precision) {
  return shared_layout(spec, max_rows, group_size, precision == Precision::kBf16).total;
}

SplitLayers::SplitLayers(Network& network, SplitGroup group, size_t max_rows)
    : network_(network),
      group_(std::move(group)),
      max_rows_(max_rows),
      bf16_(network.precision() == Precision::kBf16),
      layers_(network.layers()),
      tied_from_(network.layers().size(), -1),
      engine_(std::make_unique<Engine>()) {
  for (size_t d = 0; d < layers_.size(); ++d)
    if (layers_[d].tied_to >= 0) tied_from_[size_t(layers_[d].tied_to)] = int(d);
  at_ = shared_layout(network.spec(), max_rows, group_.size, bf16_);
  if (group_.shared.size() < at_.total) throw RunError("SplitLayers: too little shared memory");
  const int line = bf16_ ? 2 * int(kLine) : int(kLine);
  for (size_t i = 0; i < layers_.size(); ++i)
    columns_.push_back(
        split_columns(layers_[i].out, group_.size, i + 1 < layers_.size() ? line : 1));
  // What layer i's dy sums: this rank's columns of every part of layer i+1's dx (ranks that own
  // none of layer i+1 write no part).
  parts_of_.resize(layers_.size());
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    const auto& above = columns_[i + 1];
    const size_t begin = size_t(columns_[i][size_t(group_.rank)]);
    for (int q = 0; q < group_.size; ++q)
      if (above[size_t(q) + 1] > above[size_t(q)])
        parts_of_[i].push_back(shared_at(at_.parts[i + 1] + size_t(q) * at_.part_stride[i + 1]) +
                               begin);
  }
  for (size_t i = layers_.size(); i-- > 0;) {
    const LayerSpec& layer = layers_[i];
    const size_t begin = size_t(columns_[i][size_t(group_.rank)]);
    const size_t end = size_t(columns_[i][size_t(group_.rank) + 1]);
    if (layer.tied_to >= 0)  // (its encoder layer's rows)
      owned_.push_back({layer.bias_offset, layer.bias_offset});
    else
      owned_.push_back({layer.weight_offset + begin * size_t(layer.in),
                        layer.weight_offset + end * size_t(layer.in)});
    owned_.push_back({layer.bias_offset + begin, layer.bias_offset + end});
  }
}

SplitLayers::~SplitLayers() = default;

float* SplitLayers::input_row(size_t row) {
  return shared_at(at_.input + row * size_t(network_.spec().input_width()));
}

float* SplitLayers::target_row(size_t row) {
  return shared_at(at_.target + row * size_t(network_.spec().input_width()));
}

SplitLayers::Plan& SplitLayers::plan_for(size_t rows) {
  auto found = plans_.find(rows);
  if (found != plans_.end()) return *found->second;
  auto plan = std::make_unique<Plan>();
  plan->rows = rows;
  const dnnl::engine& eng = engine_->engine;
  const memory::dim B = memory::dim(rows);
  const size_t count = layers_.size();
  const dt low = bf16_ ? dt::bf16 : dt::f32;  // the matmuls' operand type
  float* parameters = network_.parameters().data();
  float* gradients = network_.gradients().data();
  // The weights as the matmuls read them: the f32 parameters, or their bf16 copy.
  auto weights_at = [&](size_t offset) -> void* {
    if (!bf16_) return parameters + offset;
    return const_cast<uint16_t*>(network_.bf16_copy().data()) + offset;
  };
  if (bf16_) plan->input16.assign(rows * size_t(network_.spec().input_width()), 0);
  plan->layers.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const LayerSpec& spec = layers_[i];
    Plan::Layer& layer = plan->layers[i];
    layer.begin = columns_[i][size_t(group_.rank)];
    layer.n = columns_[i][size_t(group_.rank) + 1] - layer.begin;
    layer.activated =
        spec.activation != Activation::kLinear && !(i + 1 == count && network_.output_logits());
    const EltwiseAlgs algs = eltwise_algs(spec.activation);
    const bool keeps_z = layer.activated && algs.backward_reads_input;
    const size_t own = rows * size_t(layer.n);
    layer.y.assign(own, 0.f);
    layer.dy.assign(own, 0.f);
    if (layer.activated) layer.dz.assign(own, 0.f);
    if (keeps_z) layer.z.assign(own, 0.f);
    if (spec.dropout) layer.mask.assign(own, 0.f);
    if (bf16_) layer.dz16.assign(own, 0);
    if (layer.n == 0) continue;  // (a layer narrower than the group) nothing to compute

    const memory::dim in = spec.in, out = spec.out, n = layer.n;
    const bool tied = spec.tied_to >= 0;
    void* x = i > 0 ? (bf16_ ? static_cast<void*>(shared16_at(at_.output[i - 1]))
                             : static_cast<void*>(shared_at(at_.output[i - 1])))
                    : (bf16_ ? static_cast<void*>(plan->input16.data())
                             : static_cast<void*>(shared_at(at_.input)));
    // W[own] [n, in]: rows of W, or (tied) columns of the encoder's W_e [in, out].
    void* w = weights_at(spec.weight_offset + size_t(layer.begin) * (tied ? 1 : size_t(in)));
    void* dz_operand = bf16_ ? static_cast<void*>(layer.dz16.data()) : layer.gradient_out();
    const memory::desc x_md = plain(B, in, low), own_md = plain(B, n);
    const memory::desc w_rows_md = tied ? matrix(n, in, 1, out, low) : plain(n, in, low);
    const memory::desc w_forward_md =  // ... read as W[own]^T
        tied ? matrix(in, n, out, 1, low) : matrix(in, n, 1, in, low);
    const memory::desc bias_md = plain(1, n);

    dnnl::primitive_attr forward_attr;
    if (layer.activated) {
      if (keeps_z) {
        layer.activation_forward = activation_forward(algs, own_md, eng);
        layer.activation_forward_args = {{DNNL_ARG_SRC, memory(own_md, eng, layer.z.data())},
                                         {DNNL_ARG_DST, memory(own_md, eng, layer.y.data())}};
      } else {
        forward_attr = with_activation(algs);
      }
      layer.activation_backward = activation_backward(algs, own_md, eng);
      layer.activation_args = {{DNNL_ARG_DIFF_DST, memory(own_md, eng, layer.dy.data())},
                               keeps_z
                                   ? std::pair{DNNL_ARG_SRC, memory(own_md, eng, layer.z.data())}
                                   : std::pair{DNNL_ARG_DST, memory(own_md, eng, layer.y.data())},
                               {DNNL_ARG_DIFF_SRC, memory(own_md, eng, layer.dz.data())}};
    }
    // The output goes to a private [B, n] buffer (a matmul writing a strided slice of the
    // shared [B, out] was slower: docs/performance.md), copied into the shared one after dropout.
    layer.forward = dnnl::matmul({{x_md, w_forward_md, bias_md, own_md}, forward_attr, eng});
    layer.forward_args = {
        {DNNL_ARG_SRC, memory(x_md, eng, x)},
        {DNNL_ARG_WEIGHTS, memory(w_forward_md, eng, w)},
        {DNNL_ARG_BIAS, memory(bias_md, eng, parameters + spec.bias_offset + size_t(layer.begin))},
        {DNNL_ARG_DST, memory(own_md, eng, keeps_z ? layer.z.data() : layer.y.data())}};

    // dW[own] = dz^T x, written straight into this rank's rows of the gradient buffer (a tied
    // layer's term is its encoder layer's to compute, below).
    const memory::desc dw_md = plain(n, in);
    float* dw = gradients + spec.weight_offset + size_t(layer.begin) * size_t(in);
    if (!tied) {
      const memory::desc dz_t_md = matrix(n, B, 1, n, low);
      layer.backward_weights = dnnl::matmul({{dz_t_md, x_md, dw_md}, eng});
      layer.weights_args = {{DNNL_ARG_SRC, memory(dz_t_md, eng, dz_operand)},
                            {DNNL_ARG_WEIGHTS, memory(x_md, eng, x)},
                            {DNNL_ARG_DST, memory(dw_md, eng, dw)}};
    }
    // The tied decoder layer d's term, added to the same rows: x_d[:, own]^T dz_d, where x_d is
    // layer d-1's shared output (out wide) and dz_d the shared [B, in].
    if (const int d = tied_from_[i]; d >= 0) {
      const size_t x_d = at_.output[size_t(d) - 1];
      void* x_d_own = bf16_ ? static_cast<void*>(shared16_at(x_d) + layer.begin)
                            : static_cast<void*>(shared_at(x_d) + layer.begin);
      void* dz_d = bf16_ ? static_cast<void*>(shared16_at(at_.dz[size_t(d)]))
                         : static_cast<void*>(shared_at(at_.dz[size_t(d)]));
      const memory::desc x_d_t_md = matrix(n, B, 1, out, low), dz_d_md = plain(B, in, low);
      dnnl::post_ops sum;
      sum.append_sum(1.0f);
      dnnl::primitive_attr accumulate;
      accumulate.set_post_ops(sum);
      layer.tied_weights = dnnl::matmul({{x_d_t_md, dz_d_md, dw_md}, accumulate, eng});
      layer.tied_args = {{DNNL_ARG_SRC, memory(x_d_t_md, eng, x_d_own)},
                         {DNNL_ARG_WEIGHTS, memory(dz_d_md, eng, dz_d)},
                         {DNNL_ARG_DST, memory(dw_md, eng, dw)}};
    }
    // This rank's part of dx: dz[:, own] W[own], in f32.
    if (i > 0) {
      const memory::desc dz_md = plain(B, n, low), dx_md = plain(B, in);
      layer.backward_data = dnnl::matmul({{dz_md, w_rows_md, dx_md}, eng});
      float* part = shared_at(at_.parts[i] + size_t(group_.rank) * at_.part_stride[i]);
      layer.data_args = {{DNNL_ARG_SRC, memory(dz_md, eng, dz_operand)},
                         {DNNL_ARG_WEIGHTS, memory(w_rows_md, eng, w)},
                         {DNNL_ARG_DST, memory(dx_md, eng, part)}};
    }
  }
  Plan& result = *plan;
  plans_.emplace(rows, std::move(plan));
  return result;
}

double SplitLayers::forward(std::span<const RowBlock> blocks, const DropoutKey& key,
                            const Loss& loss, bool separate_target) {
  if (blocks.size() != size_t(group_.size))
    throw RunError("SplitLayers::forward: a block per rank");
  size_t rows = 0;
  for (const RowBlock& block : blocks) rows += block.rows;
  if (rows > max_rows_) throw RunError("SplitLayers::forward: more rows than room for");
  group_.sync();  // every rank's input rows are in
  last_plan_ = nullptr;
  if (rows == 0) {
    for (size_t i = 0; i + 1 < layers_.size(); ++i) group_.sync();  // as many as the others
    return 0.0;
  }
  Plan& plan = plan_for(rows);
  dnnl::stream& stream = engine_->stream;
  const float keep = 1.0f - network_.spec().dropout;
  plan.dropout_applied = network_.spec().dropout > 0;  // (forward here is always training)
  // Every rank rounds the whole input for itself, which needs no further barrier.
  if (bf16_) kernels::round_to_bf16(shared_at(at_.input), plan.input16.size(), plan.input16.data());
  for (size_t i = 0; i < layers_.size(); ++i) {
    const LayerSpec& spec = layers_[i];
    Plan::Layer& layer = plan.layers[i];
    const size_t n = size_t(layer.n), out = size_t(spec.out);
    if (n > 0) {
      layer.forward.execute(stream, layer.forward_args);
      if (!layer.z.empty()) layer.activation_forward.execute(stream, layer.activation_forward_args);
      stream.wait();
    }
    if (i + 1 == layers_.size()) break;  // the output: only this rank's loss reads it
    const float* y = layer.y.data();
    if (spec.dropout && n > 0) {
      // The mask of row g is the draws (seed, step, layer, g) give for columns 0..out-1, as in
      // Network; this rank takes its columns from the stream's position `begin`.
      size_t row = 0;
      for (const RowBlock& block : blocks)
        for (size_t k = 0; k < block.rows; ++k, ++row)
          dropout_mask(key, i, block.first_global_row + k, size_t(layer.begin), n, keep,
                       layer.mask.data() + row * n);
      // dy is free until backward: it holds y * mask for the copy.
      for (size_t k = 0; k < layer.y.size(); ++k) layer.dy[k] = layer.y[k] * layer.mask[k];
      y = layer.dy.data();
    }
    if (bf16_) {
      uint16_t* shared = shared16_at(at_.output[i]) + size_t(layer.begin);
      for (size_t r = 0; r < rows && n > 0; ++r)
        kernels::round_to_bf16(y + r * n, n, shared + r * out);
    } else {
      copy_into_columns(y, rows, n, shared_at(at_.output[i]), size_t(layer.begin), out, 4);
    }
    group_.sync();  // the next layer reads every rank's columns
  }
  last_plan_ = &plan;

  // The loss over this rank's columns of the output.
  const Plan::Layer& top = plan.layers.back();
  const size_t n = size_t(top.n), width = size_t(network_.spec().input_width());
  target_.resize(rows * n);
  const float* target = shared_at(separate_target ? at_.target : at_.input) + size_t(top.begin);
  for (size_t r = 0; r < rows; ++r) std::memcpy(target_.data() + r * n, target + r * width, n * 4);
  return n > 0 ? loss.sum(top.y.data(), target_.data(), rows * n) : 0.0;
}

void SplitLayers::loss_gradient(const Loss& loss, double global_sum, double global_count) {
  if (!last_plan_) return;
  Plan::Layer& top = last_plan_->layers.back();
  const size_t n = last_plan_->rows * size_t(top.n);
  if (n > 0)
    loss.gradient(top.y.data(), target_.data(), n, global_sum, global_count, top.dy.data());
}

void SplitLayers::backward(const Network::GradientsReady& on_owned) {
  const size_t count = layers_.size();
  Plan* plan = last_plan_;
  float* gradients = network_.gradients().data();
  dnnl::stream& stream = engine_->stream;
  for (size_t i = count; i-- > 0;) {
    const LayerSpec& spec = layers_[i];
    if (i + 1 < count) group_.sync();  // every rank's part of layer i+1's dx is in
    const auto& [weights_begin, weights_end] = owned_[2 * (count - 1 - i)];
    const auto& [bias_begin, bias_end] = owned_[2 * (count - 1 - i) + 1];
    if (!plan || plan->layers[i].n == 0) {  // no rows on this node, or no columns here
      std::fill(gradients + weights_begin, gradients + weights_end, 0.0f);
      std::fill(gradients + bias_begin, gradients + bias_end, 0.0f);
    } else {
      Plan::Layer& layer = plan->layers[i];
      const size_t rows = plan->rows, n = size_t(layer.n);
      if (i + 1 < count)  // dy[:, own] = the sum of the parts of layer i+1's dx
        kernels::sum_of_parts(parts_of_[i].data(), parts_of_[i].size(), rows,
                              size_t(layers_[i + 1].in), n, layer.dy.data());
      if (spec.dropout && plan->dropout_applied)
        for (size_t k = 0; k < layer.dy.size(); ++k) layer.dy[k] *= layer.mask[k];
      if (layer.activated) layer.activation_backward.execute(stream, layer.activation_args);
      kernels::column_sums(layer.gradient_out(), rows, n, gradients + bias_begin);
      if (bf16_) kernels::round_to_bf16(layer.gradient_out(), rows * n, layer.dz16.data());
      if (spec.tied_to >= 0) {  // its encoder layer reads every rank's columns, a barrier later
        if (bf16_)
          copy_into_columns(layer.dz16.data(), rows, n, shared16_at(at_.dz[i]), size_t(layer.begin),
                            size_t(spec.out), 2);
        else
          copy_into_columns(layer.gradient_out(), rows, n, shared_at(at_.dz[i]),
                            size_t(layer.begin), size_t(spec.out), 4);
      } else {
        layer.backward_weights.execute(stream, layer.weights_args);
      }
      if (tied_from_[i] >= 0) layer.tied_weights.execute(stream, layer.tied_args);
      if (i > 0) layer.backward_data.execute(stream, layer.data_args);
      stream.wait();
    }
    if (on_owned) {
      if (weights_end > weights_begin) on_owned(weights_begin, weights_end);
      on_owned(bias_begin, bias_end);
    }
  }
}

}  // namespace aeflow::model
