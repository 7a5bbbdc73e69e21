// Row-major SGEMM through dnnl_sgemm (see gemm.hpp).
#include "aeflow/model/gemm.hpp"

#include <oneapi/dnnl/dnnl.h>

#include <string>

#include "aeflow/base/error.hpp"

namespace aeflow::model {

void gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a,
          size_t lda, const float* b, size_t ldb, float beta, float* c, size_t ldc) {
  if (m == 0 || n == 0) return;
  const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', dnnl_dim_t(m),
                                          dnnl_dim_t(n), dnnl_dim_t(k), alpha, a, dnnl_dim_t(lda),
                                          b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc));
  if (status != dnnl_success)
    throw RunError("oneDNN sgemm failed (status " + std::to_string(int(status)) + ") for [" +
                   std::to_string(m) + " x " + std::to_string(k) + "] . [" + std::to_string(k) +
                   " x " + std::to_string(n) + "]");
}

}  // namespace aeflow::model
