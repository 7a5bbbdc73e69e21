#include "loss_kernels.hpp"

#include "aeflow/base/vectorized.hpp"

namespace aeflow::model::kernels {

AEFLOW_VECTORIZED float squared_error_sum(const float* output, const float* target, size_t n) {
  float total = 0;
#pragma omp simd reduction(+ : total)
  for (size_t k = 0; k < n; ++k) {
    const float e = output[k] - target[k];
    total += e * e;
  }
  return total;
}

AEFLOW_VECTORIZED float absolute_error_sum(const float* output, const float* target, size_t n) {
  float total = 0;
#pragma omp simd reduction(+ : total)
  for (size_t k = 0; k < n; ++k)
    total += output[k] > target[k] ? output[k] - target[k] : target[k] - output[k];
  return total;
}

AEFLOW_VECTORIZED void scaled_error(const float* output, const float* target, size_t n, float scale,
                                    float* diff) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) diff[k] = scale * (output[k] - target[k]);
}

AEFLOW_VECTORIZED void scaled_sign(const float* output, const float* target, size_t n, float scale,
                                   float* diff) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k)
    diff[k] = output[k] > target[k] ? scale : (output[k] < target[k] ? -scale : 0.0f);
}

}  // namespace aeflow::model::kernels
