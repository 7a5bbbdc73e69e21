#include "dropout.hpp"

#include "aeflow/base/random.hpp"

namespace aeflow::model {

void dropout_mask(const DropoutKey& key, size_t layer, uint64_t global_row, size_t first, size_t n,
                  float keep, float* mask) {
  const float scale = 1.0f / keep;
  RandomStream rng(key.seed, RandomPurpose::kDropout, key.step * 256 + uint64_t(layer), global_row);
  if (first > 0) {  // (four draws a block: to the block, then within it)
    rng.seek(uint64_t(first) / 4);
    for (size_t skip = 0; skip < first % 4; ++skip) rng.uniform();
  }
  rng.fill_uniform(mask, n);
  for (size_t j = 0; j < n; ++j) mask[j] = mask[j] < keep ? scale : 0.0f;
}

}  // namespace aeflow::model
