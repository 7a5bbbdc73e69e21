// libFuzzer target: the checkpoint reader (io/checkpoint.hpp) on any bytes, as HDF5 opens them
// from a file in memory, from seeds that are whole checkpoints aeflow wrote (tests/fuzz/corpus/
// checkpoint). Most mutations break HDF5's own structures and libhdf5 (not instrumented) refuses
// them before aeflow's checks run: this target guards HDF5's refusals reaching aeflow as clean
// errors; checkpoint_edits reaches the checks themselves. A refusal is an InputError; a crash, a
// leak, undefined behaviour or a hang in aeflow's code is a bug.
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
