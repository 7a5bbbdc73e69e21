// A fuzz input as a file that the readers under test open by its path, as they open a user's:
// AEFLOW_FUZZ_INPUT (scripts/fuzz.sh's choice, in a directory of the run's own in /dev/shm,
// memory), else one per process in TMPDIR or /tmp; written for each input and removed after it.
//
// Not a memfd's /proc/self/fd/N: libhdf5 resolves a path that is a symbolic link to the file's
// real path before it opens it, and a memfd has none, so every checkpoint read through one was
// refused at H5Fopen ("can't retrieve real path for file") and never reached the reader's checks.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace aeflow::fuzz {

class InputFile {
 public:
  InputFile(const uint8_t* data, size_t size) : path_(process_path()) {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();  // no input can cause this: the harness itself is broken
    for (size_t written = 0; written < size;) {
      const ssize_t n = ::write(fd, data + written, size - written);
      if (n <= 0) std::abort();
      written += size_t(n);
    }
    ::close(fd);
  }
  ~InputFile() { ::unlink(path_.c_str()); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  static std::string process_path() {
    // scripts/fuzz.sh names it, relative to a working directory of the run's own, so that a
    // process id or a temporary directory's name is not part of it (the path goes into the
    // readers' messages; whether that alone changed a fixed-seed run was not measured).
    if (const char* path = std::getenv("AEFLOW_FUZZ_INPUT"); path != nullptr && *path != '\0')
      return path;
    const char* tmpdir = std::getenv("TMPDIR");
    const std::string directory = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
    return directory + "/aeflow-fuzz-input-" + std::to_string(::getpid());
  }

  std::string path_;
};

}  // namespace aeflow::fuzz
