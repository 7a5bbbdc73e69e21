#include "aeflow/train/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "aeflow/base/error.hpp"

namespace aeflow::train {

namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

}  // namespace

RunLock::RunLock(const std::filesystem::path& dir) {
  const std::string path = (dir / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw RunError(path + ": cannot make the lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char holder[512] = {};
    const ssize_t got = ::pread(fd_, holder, sizeof holder - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) throw RunError(path + ": cannot lock it: " + std::strerror(error));
    std::string who = got > 0 ? std::string(holder, size_t(got)) : "another process";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    throw InputError(dir.string() + " is in use by " + who + " (a live process holds " + path +
                     "): wait for it to end, or stop it, or write into another --out");
  }
  // Who holds it, for the message above (the lock itself is the flock, not this text).
  const std::string me = "host " + host_name() + " pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != ssize_t(me.size())) {
    // (the lock holds without the text; only the message of a refused process is poorer)
  }
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // (closing the last descriptor drops the flock)
}

}  // namespace aeflow::train
