// The table of a sweep in HDF5 (format "aeflow-sweep", layout: docs/hdf5-schema.md, "Sweep"): one
// row per run of the grid, with its settings, status and test metrics beside the PCA baseline at
// its code width, plus every run's validation curve. A run's own record (RUN/sweep-run.h5) is the
// same format with one row; the sweep's table (SWEEP/sweep.h5) is those rows gathered. Plain data
// in and out, so io needs no sweep types; written atomically (tmp, fsync, rename).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace aeflow::io {

// What became of a run: trained to its end, failed (with its message), stopped by a signal with a
// checkpoint to resume from, cut by pruning, or not started yet.
enum class RunStatus { kPending, kDone, kFailed, kInterrupted, kPruned };
std::string to_string(RunStatus status);
RunStatus parse_run_status(const std::string& text);  // throws InputError

struct SweepRow {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  std::string name;         // the grid point, readable: "k=10,lr=0.003"
  std::string run_dir;      // its run directory, relative to the sweep directory
  std::string config;       // the run's resolved configuration (INI text)
  std::string config_hash;  // 16 hex digits of the configuration (the suffix of run_dir)
  std::vector<std::pair<std::string, std::string>> settings;  // the grid's keys, k first
  int64_t k = 0;                                              // the code width
  RunStatus status = RunStatus::kPending;
  int64_t attempts = 0;  // times the run was started (a resume counts)
  std::string error;     // why it failed; empty otherwise
  double test_mse = kNaN, test_rmse = kNaN, test_bce = kNaN;
  double pca_rmse = kNaN;      // PCA at k on the same test images
  double knn_accuracy = kNaN;  // of the codes
  double last_val_loss = kNaN;
  int64_t epochs = 0;       // completed
  int64_t best_epoch = 0;   // lowest validation loss (0: none)
  double wall_seconds = 0;  // of the last attempt
  int64_t ranks = 0;
  int64_t group = -1;            // the group of ranks that ran it last
  std::vector<double> val_loss;  // per epoch, in the run's loss
};

// Writes ROWS (in that order) to PATH, replacing it atomically. CONFIG is the sweep's job (INI).
void write_sweep_table(const std::string& path, const std::string& config,
                       const std::vector<SweepRow>& rows);

// Reads a table written by write_sweep_table. Throws InputError when PATH is no aeflow-sweep
// file of this version or its columns disagree.
std::vector<SweepRow> read_sweep_table(const std::string& path);

}  // namespace aeflow::io
