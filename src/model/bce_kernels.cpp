// The logistic kernels. This file alone is compiled with -ffast-math (CMakeLists.txt): it is
// what lets GCC call glibc's vector expf/log1pf (libmvec, declared only under __FAST_MATH__);
// without it each element costs a scalar call and BCE dominated the step of small models
// (docs/performance.md). Logits here are finite: they come from a matmul of finite values.
#include <cmath>

#include "aeflow/base/vectorized.hpp"
#include "loss_kernels.hpp"

namespace aeflow::model::kernels {

AEFLOW_VECTORIZED float bce_sum(const float* logits, const float* target, size_t n) {
  float total = 0;
#pragma omp simd reduction(+ : total)
  for (size_t k = 0; k < n; ++k) {
    // -t log s(z) - (1-t) log(1-s(z)) = max(z,0) - z t + log(1 + exp(-|z|)): no overflow.
    const float z = logits[k];
    total += (z > 0 ? z : 0.0f) - z * target[k] + std::log1p(std::exp(-std::fabs(z)));
  }
  return total;
}

AEFLOW_VECTORIZED void bce_gradient(const float* logits, const float* target, size_t n, float scale,
                                    float* diff) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k)
    diff[k] = scale * (1.0f / (1.0f + std::exp(-logits[k])) - target[k]);
}

AEFLOW_VECTORIZED void sigmoid(float* values, size_t n) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) values[k] = 1.0f / (1.0f + std::exp(-values[k]));
}

}  // namespace aeflow::model::kernels
