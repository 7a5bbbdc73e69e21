#include "matrix_kernels.hpp"

#include <algorithm>

#include "aeflow/base/vectorized.hpp"

namespace aeflow::model::kernels {

AEFLOW_VECTORIZED void column_sums(const float* values, size_t rows, size_t cols, float* sums) {
  std::fill_n(sums, cols, 0.0f);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = values + r * cols;
#pragma omp simd
    for (size_t j = 0; j < cols; ++j) sums[j] += row[j];
  }
}

AEFLOW_VECTORIZED void sum_of_parts(const float* const* parts, size_t count, size_t rows,
                                    size_t stride, size_t cols, float* out) {
  for (size_t r = 0; r < rows; ++r) {
    float* o = out + r * cols;
    const float* first = parts[0] + r * stride;
#pragma omp simd
    for (size_t j = 0; j < cols; ++j) o[j] = first[j];
    for (size_t q = 1; q < count; ++q) {
      const float* next = parts[q] + r * stride;
#pragma omp simd
      for (size_t j = 0; j < cols; ++j) o[j] += next[j];
    }
  }
}

}  // namespace aeflow::model::kernels
