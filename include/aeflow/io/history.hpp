// The per-epoch history table of a training run, as written into both a checkpoint's and a
// metrics file's /history group (docs/hdf5-schema.md): one 1-D dataset per column, all of the
// same length, and a `rows` attribute; and the frames of a training animation beside it, in
// /history/snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aeflow/io/hdf5.hpp"

namespace aeflow::io {

// One row of the per-epoch history table.
struct HistoryRow {
  int64_t epoch = 0;         // 1-based epoch that just ended
  int64_t step = 0;          // global optimizer steps done at the end of it
  double train_loss = 0;     // mean training loss over the epoch, in the training metric
  double val_loss = 0;       // NaN when there is no validation split
  double val_rmse = 0;       // NaN when there is no validation split
  double learning_rate = 0;  // at the last step of the epoch
  double seconds = 0;        // wall time of the epoch
};

// A few fixed images and their reconstructions at the end of every epoch: the frames of a
// training animation. No images: the run kept none.
struct Snapshots {
  std::string split;            // where the images are: "validation" or "train"
  std::vector<int64_t> index;   // each image's row in the training images file
  std::vector<uint8_t> label;   // each image's label
  int64_t rows = 0, cols = 0;   // of an image
  std::vector<uint8_t> input;   // [n, rows, cols], as in the file
  std::vector<int64_t> epoch;   // the epoch of each frame, ascending
  std::vector<uint8_t> frames;  // [epochs, n, rows, cols]: reconstructions, clamped, * 255 rounded

  size_t count() const { return index.size(); }
  size_t image_size() const { return size_t(rows * cols); }
  // Appends the frame of EPOCH (reconstructions in [0, 1] as the network gives them, count()
  // images), or replaces the last one when it is of the same epoch (a partial epoch resumed).
  void add_frame(int64_t epoch, const float* reconstructions);
  bool operator==(const Snapshots&) const = default;
};

// Writes ROWS into GROUP (empty, just created): the `rows` attribute and the seven columns, and
// SNAPSHOTS (when it holds images) as the subgroup `snapshots`.
void write_history(h5::Group& group, const std::vector<HistoryRow>& rows,
                   const Snapshots& snapshots = {});

// Reads the table from GROUP, and its snapshots into SNAPSHOTS when given (left empty when the
// file has none); throws InputError naming PATH when columns differ in length or the snapshots'
// shapes do not agree.
std::vector<HistoryRow> read_history(const h5::Group& group, const std::string& path,
                                     Snapshots* snapshots = nullptr);

}  // namespace aeflow::io
