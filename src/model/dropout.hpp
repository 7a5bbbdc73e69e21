// The dropout mask, the one function Network and SplitLayers both draw it with, so that a row's
// mask is the same whichever computes it (split's "matches one rank" rests on it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "aeflow/model/network.hpp"  // DropoutKey

namespace aeflow::model {

// Columns [FIRST, FIRST + N) of the mask of layer LAYER's output row GLOBAL_ROW (the row's index
// in the epoch's global batch order) at step KEY.step of the run seeded KEY.seed, into MASK: each
// entry 1 / KEEP with chance KEEP, else 0 (inverted dropout: scaled at training time, so
// inference needs nothing). Keyed by (seed, step, layer, global row), never by rank or batch
// position, and column c is the c-th draw of that row's stream. (KEY.first_global_row is not
// read: GLOBAL_ROW is the row's own.)
void dropout_mask(const DropoutKey& key, size_t layer, uint64_t global_row, size_t first, size_t n,
                  float keep, float* mask);

}  // namespace aeflow::model
