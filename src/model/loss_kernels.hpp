// The elementwise loops under Loss and Network::reconstruct, vectorized (AEFLOW_VECTORIZED).
// Sums are float over one chunk; callers add chunks of at most kLossChunk elements in double,
// which keeps the rounding error of a batch's sum at float's for ~kLossChunk/16 terms.
#pragma once

#include <cstddef>

namespace aeflow::model::kernels {

constexpr size_t kLossChunk = 1024;

float squared_error_sum(const float* output, const float* target, size_t n);
float absolute_error_sum(const float* output, const float* target, size_t n);
// diff = scale * (output - target)
void scaled_error(const float* output, const float* target, size_t n, float scale, float* diff);
// diff = scale * sign(output - target)
void scaled_sign(const float* output, const float* target, size_t n, float scale, float* diff);

// Binary cross-entropy from logits z: sum of max(z,0) - z t + log1p(exp(-|z|)).
float bce_sum(const float* logits, const float* target, size_t n);
// diff = scale * (sigmoid(z) - t)
void bce_gradient(const float* logits, const float* target, size_t n, float scale, float* diff);
// values = sigmoid(values)
void sigmoid(float* values, size_t n);

}  // namespace aeflow::model::kernels
