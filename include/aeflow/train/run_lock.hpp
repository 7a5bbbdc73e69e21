// One writer per run directory: a process that trains into a directory (or sweeps into one)
// holds an exclusive flock(2) on DIR/.lock for as long as it writes there, with its host and
// pid in the file. A second one is refused, naming the holder; a lock left by a process that
// died is no lock (the kernel drops it with the process), so a requeued job that finds its old
// self gone goes on. On NFS, Linux takes flock as a POSIX lock the server arbitrates.
#pragma once

#include <filesystem>

namespace aeflow::train {

class RunLock {
 public:
  // Takes DIR/.lock (DIR must exist). Throws InputError naming the holder when a live process
  // holds it; RunError when the lock file cannot be made.
  explicit RunLock(const std::filesystem::path& dir);
  ~RunLock();  // releases it
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace aeflow::train
