#include "bf16_rounding.hpp"

#include <cstring>

#include "aeflow/base/vectorized.hpp"

namespace aeflow::model::kernels {

AEFLOW_VECTORIZED void round_to_bf16(const float* values, size_t n, uint16_t* out) {
#pragma omp simd
  for (size_t k = 0; k < n; ++k) {
    uint32_t bits;
    std::memcpy(&bits, &values[k], sizeof bits);
    const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    // Adding 0x7fff rounds to nearest; adding the kept part's lowest bit too sends ties to even.
    const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    out[k] = uint16_t(nan ? (bits >> 16) | 0x40u : rounded);
  }
}

}  // namespace aeflow::model::kernels
