// Row-major single-precision matrix products on oneDNN's JIT GEMM, for the few places that
// multiply matrices outside a Network: the PCA baseline's covariance and the kNN distances of
// `aeflow eval`. Not a BLAS: one entry point, row-major only, errors as RunError.
#pragma once

#include <cstddef>

namespace aeflow::model {

// C [m, n] = alpha * op(A) op(B) + beta * C, where op(A) is [m, k] (A itself when !trans_a,
// else A^T with A stored [k, m]) and op(B) is [k, n]; lda, ldb, ldc are row strides.
void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a,
          size_t lda, const float* b, size_t ldb, float beta, float* c, size_t ldc);

}  // namespace aeflow::model
