// Loops over row-major [rows, cols] matrices that the layers need beside their matmuls,
// vectorized (AEFLOW_VECTORIZED).
#pragma once

#include <cstddef>

namespace aeflow::model::kernels {

// sums[j] = sum over rows r of values[r, j]: a bias's gradient.
void column_sums(const float* values, size_t rows, size_t cols, float* sums);

// out[r, j] = parts[0][r * stride + j] + parts[1][...] + ... in the order given, for r < rows
// and j < cols; out is [rows, cols]. Sums the pieces of one matrix that several ranks computed.
void sum_of_parts(const float* const* parts, size_t count, size_t rows, size_t stride, size_t cols,
                  float* out);

}  // namespace aeflow::model::kernels
