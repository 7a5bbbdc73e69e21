// libFuzzer target: the checkpoint reader (io/checkpoint.hpp) on any bytes, as HDF5 opens them
// from a file in memory. The seeds are whole checkpoints that aeflow wrote (tests/fuzz/corpus/
// checkpoint), so the mutations reach past HDF5's signature into the groups, attributes and
// datasets that aeflow checks. A refusal is an InputError; a crash, a leak, undefined behaviour or
// a hang in aeflow's code is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "aeflow/base/error.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "memory_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const aeflow::fuzz::MemoryFile file(data, size);
  try {
    const aeflow::io::CheckpointData checkpoint = aeflow::io::read_checkpoint(file.path());
    // What the reader promises of a checkpoint it accepts: parameters that fit its model, all
    // finite.
    const std::vector<float> flat = aeflow::io::flat_parameters(checkpoint, file.path());
    if (flat.size() != size_t(checkpoint.spec.parameter_count())) __builtin_trap();
    for (float value : flat)
      if (!std::isfinite(value)) __builtin_trap();
  } catch (const aeflow::InputError&) {
  }
  return 0;
}
