// A training checkpoint in HDF5: the model, the optimizer state, the loop state and the history,
// plus the full job config. Written atomically (NAME.tmp, fsync, rename), so a crash or a signal
// never leaves a half file under a checkpoint's name. See docs/hdf5-schema.md for the layout.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aeflow/io/history.hpp"  // HistoryRow
#include "aeflow/model/model_spec.hpp"

namespace aeflow::io {

// A named float array, e.g. "layer_00/weight" with shape {512, 784}.
struct NamedArray {
  std::string name;
  std::vector<size_t> shape;
  std::vector<float> values;
};

// Where the training loop stands; enough to continue bit-for-bit.
struct LoopState {
  int64_t epoch = 0;          // epochs completed
  int64_t step_in_epoch = 0;  // steps done in the current (incomplete) epoch, 0 at a boundary
  int64_t global_step = 0;    // optimizer steps done in total
  int64_t world_size = 1;     // ranks that wrote it
  uint64_t seed = 0;
  // Early stopping.
  double best_monitor = 0;      // best monitored value so far (+inf before the first)
  int64_t bad_epochs = 0;       // epochs since it last improved by min_delta
  double best_val_loss = 0;     // best validation loss so far, for best.h5 (+inf before the first)
  double train_loss_total = 0;  // the loss summed over every output element this epoch
  int64_t train_loss_images = 0;  // images in that sum
  bool finished = false;          // the run ended (epochs/steps done or stopped early)
  // The settings that decide which images each step takes, so a resume must keep them; -1: not
  // recorded (a file older than these attributes whose config does not name it either).
  int64_t batch_size = -1;   // the global batch
  int64_t validation = -1;   // training images held out for validation
  int64_t train_limit = -1;  // training images used at most (0: all)
};

struct CheckpointData {
  std::string config_ini;  // the resolved job config, INI text
  model::ModelSpec spec;
  std::string loss;                    // "mse", ...
  std::vector<NamedArray> parameters;  // layer_NN/weight [out,in] (untied), layer_NN/bias [out]
  std::string optimizer;               // "adam", ...
  std::vector<NamedArray> optimizer_state;  // e.g. "m", "v": flat, parameter_count long
  int64_t optimizer_step = 0;
  LoopState state;
  std::vector<HistoryRow> history;
  Snapshots snapshots;  // the training animation's frames so far (none before they existed)
};

// A float array that a checkpoint is written from, viewed where it lives.
struct NamedSpan {
  std::string name;
  std::span<const float> values;
};

// What a running model is checkpointed from: views of its buffers, no copies of the parameters.
// io slices PARAMETERS into the file's per-layer arrays by the spec's layer offsets.
struct CheckpointView {
  const std::string& config_ini;
  const model::ModelSpec& spec;
  std::string loss;
  std::span<const float> parameters;  // flat, in the layout of spec.layers()
  std::string optimizer;
  std::vector<NamedSpan> optimizer_state;  // flat, parameter_count long each
  int64_t optimizer_step = 0;
  const LoopState& state;
  const std::vector<HistoryRow>& history;
  const Snapshots* snapshots = nullptr;  // the training animation's frames; null: none
};

// Writes PATH.tmp, fsyncs, renames over PATH. Throws RunError (disk full, permissions) and
// removes the temporary file; an existing PATH is left as it was.
void write_checkpoint(const std::string& path, const CheckpointView& checkpoint);
// The same from arrays read before (rewriting a checkpoint): its parameters must be exactly the
// spec's arrays, or RunError.
void write_checkpoint(const std::string& path, const CheckpointData& checkpoint);

// CHECKPOINT's parameters as one flat buffer in the layout of its spec's layers() (what a
// Network computes on). Throws InputError naming PATH if its arrays do not make that buffer.
std::vector<float> flat_parameters(const CheckpointData& checkpoint, const std::string& path);

// Throws InputError if PATH is not an aeflow checkpoint (missing, damaged, other format).
CheckpointData read_checkpoint(const std::string& path);

}  // namespace aeflow::io
