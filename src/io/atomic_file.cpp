// The write-temporary, fsync, rename protocol (see atomic_file.hpp). POSIX calls only; the
// directory is fsynced too, because a rename is durable only once its directory entry is.
#include "aeflow/io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "aeflow/base/error.hpp"

namespace aeflow::io {

namespace {

std::string reason() {
  return std::strerror(errno);
}

void fsync_path(const std::string& path, int flags, const std::string& what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw RunError(what + ": cannot open " + path + " to sync it: " + reason());
  const int result = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (result != 0) throw RunError(what + ": cannot sync " + path + " to disk: " + reason());
}

}  // namespace

AtomicFile::AtomicFile(std::string path, bool overwrite)
    : path_(std::move(path)), temp_path_(path_ + ".tmp"), overwrite_(overwrite) {
  std::error_code error;
  if (!overwrite_ && std::filesystem::exists(path_, error))
    throw InputError(path_ + " exists; pass --force to overwrite");
  std::filesystem::remove(temp_path_, error);  // stale, from a run that crashed mid-write
}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::commit() {
  if (committed_) return;
  fsync_path(temp_path_, O_RDONLY, path_);
  int renamed = -1;
  if (!overwrite_) {
    // Atomic "create, never replace"; filesystems without it get the check-then-rename.
    renamed = ::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && errno == EEXIST)
      throw InputError(path_ + " exists; pass --force to overwrite");
    if (renamed != 0 && errno != EINVAL && errno != ENOSYS)
      throw RunError(path_ + ": cannot rename " + temp_path_ + " to it: " + reason());
    if (renamed != 0 && std::filesystem::exists(path_))
      throw InputError(path_ + " exists; pass --force to overwrite");
  }
  if (renamed != 0 && ::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw RunError(path_ + ": cannot rename " + temp_path_ + " to it: " + reason());
  committed_ = true;
  std::string directory = std::filesystem::path(path_).parent_path().string();
  fsync_path(directory.empty() ? "." : directory, O_RDONLY | O_DIRECTORY, path_);
}

}  // namespace aeflow::io
