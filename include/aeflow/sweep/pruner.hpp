// Asynchronous successive halving (ASHA, Li et al. 2020) over the runs of a sweep: rungs at
// FIRST, FIRST x ETA, FIRST x ETA^2, ... epochs. A run that reaches a rung goes on only if its
// validation loss is among the best 1/ETA (at least one) of the runs of the same code width that
// have reached that rung so far, itself included: no waiting for a rung to fill, and never a
// comparison across code widths, so the error-against-k curve stays whole.
//
// The rungs' records live in one file of the sweep directory (SWEEP/rungs.tsv: run, k, epoch,
// validation loss), appended while the caller holds the sweep's lock, so every group of ranks
// judges against every other group's runs, and a re-run of the sweep continues the same rungs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace aeflow::sweep {

class Pruner {
 public:
  Pruner(std::filesystem::path records, int64_t first_rung, int64_t eta);

  // EPOCH is a rung: FIRST x ETA^i for some i >= 0.
  bool is_rung(int64_t epoch) const;

  // Records RUN (of code width K) at rung EPOCH with VAL_LOSS and returns whether to cut it
  // there. Call it holding the sweep's lock (one writer of the records at a time). A run
  // recorded at this rung before (a resumed run) is counted once, with its latest loss.
  bool cut(const std::string& run, int64_t k, int64_t epoch, double val_loss) const;

 private:
  std::filesystem::path records_;
  int64_t first_rung_;
  int64_t eta_;
};

}  // namespace aeflow::sweep
