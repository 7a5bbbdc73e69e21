// The per-epoch history table of a training run, as written into both a checkpoint's and a
// metrics file's /history group (docs/hdf5-schema.md): one 1-D dataset per column, all of the
// same length, and a `rows` attribute.
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

// Writes ROWS into GROUP (empty, just created): the `rows` attribute and the seven columns.
void write_history(h5::Group& group, const std::vector<HistoryRow>& rows);

// Reads the table from GROUP; throws InputError naming PATH when columns differ in length.
std::vector<HistoryRow> read_history(const h5::Group& group, const std::string& path);

}  // namespace aeflow::io
