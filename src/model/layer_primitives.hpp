// What Network and SplitLayers both build their oneDNN primitives from, so that the two compute
// a layer alike: the engine, matrix descriptors over strided memory, an activation's eltwise
// algorithms, its fused post-op and its backward.
//
// Most activations' derivatives are functions of their output y (sigmoid: y(1-y)), so the
// forward matmul applies them as a post-op and z = x W^T + b is never stored. SiLU and GELU are
// not monotonic, so y does not determine z: their backward reads z, which the matmul then
// writes unactivated and a separate eltwise forward turns into y.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include "aeflow/model/model_spec.hpp"

namespace aeflow::model {

// A [rows, cols] matrix whose element (r, c) sits at r * row_stride + c * col_stride: views
// such as a transpose or a slice of columns cost no copy.
inline dnnl::memory::desc matrix(dnnl::memory::dim rows, dnnl::memory::dim cols,
                                 dnnl::memory::dim row_stride, dnnl::memory::dim col_stride,
                                 dnnl::memory::data_type type = dnnl::memory::data_type::f32) {
  return dnnl::memory::desc({rows, cols}, type, dnnl::memory::dims{row_stride, col_stride});
}
inline dnnl::memory::desc plain(dnnl::memory::dim rows, dnnl::memory::dim cols,
                                dnnl::memory::data_type type = dnnl::memory::data_type::f32) {
  return matrix(rows, cols, cols, 1, type);
}

struct EltwiseAlgs {
  dnnl::algorithm forward;
  dnnl::algorithm backward;  // the variant that needs only the output y, where there is one
  float alpha;
  bool backward_reads_input = false;  // the backward needs z (backward == forward's algorithm)
};

inline EltwiseAlgs eltwise_algs(Activation activation) {
  using dnnl::algorithm;
  switch (activation) {
    case Activation::kSigmoid:
      return {algorithm::eltwise_logistic, algorithm::eltwise_logistic_use_dst_for_bwd, 0.f};
    case Activation::kRelu:
      return {algorithm::eltwise_relu, algorithm::eltwise_relu_use_dst_for_bwd, 0.f};
    case Activation::kElu:
      return {algorithm::eltwise_elu, algorithm::eltwise_elu_use_dst_for_bwd, 1.f};
    case Activation::kTanh:
      return {algorithm::eltwise_tanh, algorithm::eltwise_tanh_use_dst_for_bwd, 0.f};
    case Activation::kSilu:  // oneDNN's swish z * sigmoid(alpha z), alpha 1
      return {algorithm::eltwise_swish, algorithm::eltwise_swish, 1.f, true};
    case Activation::kGelu:  // the exact form, z * Phi(z), as PyTorch's default
      return {algorithm::eltwise_gelu_erf, algorithm::eltwise_gelu_erf, 0.f, true};
    case Activation::kLinear:
      break;
  }
  return {algorithm::undef, algorithm::undef, 0.f};
}

// The CPU engine and the stream every primitive of a Network or a SplitLayers runs on.
struct CpuEngine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

// A layer's forward matmul attributes: its activation fused as an eltwise post-op.
inline dnnl::primitive_attr with_activation(const EltwiseAlgs& algs) {
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, algs.forward, algs.alpha, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

// The activation alone over [rows, cols] = MD, z to y: for those whose backward reads z.
inline dnnl::eltwise_forward activation_forward(const EltwiseAlgs& algs,
                                                const dnnl::memory::desc& md,
                                                const dnnl::engine& engine) {
  return dnnl::eltwise_forward(
      {{dnnl::prop_kind::forward_training, algs.forward, md, algs.alpha, 0.0f}, engine});
}

// The activation's backward over [rows, cols] = MD, from its output y (use-dst variant) or,
// where backward_reads_input, from z; oneDNN wants a forward descriptor as a hint for it.
inline dnnl::eltwise_backward activation_backward(const EltwiseAlgs& algs,
                                                  const dnnl::memory::desc& md,
                                                  const dnnl::engine& engine) {
  dnnl::eltwise_forward::primitive_desc hint(
      {dnnl::prop_kind::forward_training, algs.backward, md, algs.alpha, 0.0f}, engine);
  return dnnl::eltwise_backward({{algs.backward, md, md, algs.alpha, 0.0f}, engine, hint});
}

}  // namespace aeflow::model
