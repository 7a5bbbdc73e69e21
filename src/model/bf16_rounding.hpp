// The f32 -> bf16 conversion of the parameters' bf16 copy: round to nearest, ties to even (as
// oneDNN's reorders and AVX512_BF16's vcvtneps2bf16 do), a NaN stays a quiet NaN. One loop, so
// the copy an optimizer writes as it updates and the copy Network makes from the f32 values
// are the same bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aeflow::model::kernels {

// out[k] = the bf16 bits nearest to values[k], for k < n.
void round_to_bf16(const float* values, size_t n, uint16_t* out);

}  // namespace aeflow::model::kernels
