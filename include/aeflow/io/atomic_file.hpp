// The write-temporary, fsync, rename protocol behind every file aeflow writes: the writer fills
// temp_path() (PATH.tmp), commit() makes it durable and atomically gives it the real name, and an
// AtomicFile destroyed without commit() (an exception, a signal's unwinding) removes the
// temporary. A crash therefore never leaves a half-written file under a real name, and an
// existing PATH stays as it was until the new one is complete.
#pragma once

#include <string>

namespace aeflow::io {

class AtomicFile {
 public:
  // Throws InputError("PATH exists; pass --force to overwrite") when PATH exists and !OVERWRITE.
  // A stale PATH.tmp left by a crashed run is removed.
  AtomicFile(std::string path, bool overwrite);
  ~AtomicFile();  // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  bool committed() const { return committed_; }

  // fsyncs the temporary, renames it over PATH (refusing to replace one that appeared meanwhile
  // when !overwrite), fsyncs the directory. Throws RunError naming PATH; the temporary is still
  // removed by the destructor then.
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  bool overwrite_;
  bool committed_ = false;
};

}  // namespace aeflow::io
