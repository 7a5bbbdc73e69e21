// libFuzzer target: the checkpoint reader (io/checkpoint.hpp) on any bytes, as a file, from seeds
// that are whole checkpoints aeflow wrote (tests/fuzz/corpus/checkpoint). Most mutations break
// HDF5's own structures, which libhdf5 (not instrumented) parses before aeflow's checks run: this
// target guards HDF5's refusals reaching aeflow as clean errors; checkpoint_edits reaches the
// checks themselves. A refusal is an InputError; a crash, a leak (memory, or an HDF5 object left
// open), undefined behaviour or a hang is a bug. By hand only (scripts/fuzz.sh): libhdf5 1.10.8
// is not memory-safe on damaged files (docs/reliability.md), so ctest reports it skipped.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "aeflow/base/error.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "hdf5_objects_open.hpp"
#include "input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const aeflow::fuzz::InputFile file(data, size);
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
  if (aeflow::fuzz::hdf5_objects_open() != 0) __builtin_trap();
  return 0;
}
