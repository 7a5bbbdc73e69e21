// A run directory's files and the policy over them: RUN/config.ini, and in RUN/checkpoints/ the
// step files (step-NNNNNNNNN.h5, one per checkpoint, named by the global step), latest.h5 (a link
// to the newest of the trajectory that wrote last), best.h5; which files `--resume auto` tries and
// in what order; which older files retention deletes. Only the filesystem: no MPI (the trainer
// asks on rank 0 and broadcasts what it decided), no HDF5 (it never opens a checkpoint).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace aeflow::train {

class RunDirectory {
 public:
  explicit RunDirectory(std::filesystem::path run);

  const std::filesystem::path& path() const { return run_; }
  std::filesystem::path checkpoints() const { return run_ / "checkpoints"; }
  std::filesystem::path config_path() const { return run_ / "config.ini"; }
  std::filesystem::path latest_path() const { return checkpoints() / "latest.h5"; }
  std::filesystem::path best_path() const { return checkpoints() / "best.h5"; }
  std::filesystem::path step_path(int64_t step) const { return checkpoints() / step_name(step); }
  // "step-000000042.h5": nine digits, so that names sort by step.
  static std::string step_name(int64_t step);

  // The step files, oldest first (other names in the folder are not checkpoints).
  std::vector<std::filesystem::path> step_files() const;
  // Step files or best.h5 (a run stopped before its first step checkpoint has only best.h5).
  bool has_checkpoints() const;

  // Creates RUN/checkpoints.
  void create() const;
  // Deletes every step file, latest.h5 and best.h5 (--force starting over).
  void remove_checkpoints() const;
  // Writes config.ini atomically (NAME.tmp, fsync, rename).
  void write_config(const std::string& ini) const;
  // Points latest.h5 at TARGET (a step file here) atomically: a new link renamed over the old.
  void point_latest(const std::filesystem::path& target) const;

  // What --resume auto tries, best first: the file latest.h5 points at (the newest of the
  // trajectory that wrote last, also after a resume from an older checkpoint), then the older
  // step files, newest first, and only then any newer ones (a run that trajectory branched
  // from).
  std::vector<std::filesystem::path> resume_candidates() const;

  // After NEWEST was written: deletes this trajectory's step files older than the KEEP newest
  // (at least 1 is kept). Files newer than NEWEST belong to a run this one branched from (a
  // resume from an older checkpoint) and stay.
  void retain(const std::filesystem::path& newest, int64_t keep) const;

 private:
  std::filesystem::path run_;
};

}  // namespace aeflow::train
