// The write-temporary, fsync, rename protocol: a file appears under its name only complete, an
// abandoned temporary is removed, and a user's file is replaced only when asked.
#include "aeflow/io/atomic_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aeflow/base/error.hpp"
#include "test_support.hpp"

namespace aeflow::io {
namespace {

namespace fs = std::filesystem;
using test::read_text;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(AtomicFileTest, CommitRenamesTheTemporaryOverThePath) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  AtomicFile file(path, false);
  EXPECT_EQ(file.temp_path(), path + ".tmp");
  write_text(file.temp_path(), "new");
  EXPECT_FALSE(fs::exists(path));  // nothing under the real name until commit
  file.commit();
  EXPECT_TRUE(file.committed());
  EXPECT_EQ(read_text(path), "new");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFileTest, UncommittedTemporaryIsRemoved) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  write_text(path, "old");
  {
    AtomicFile file(path, true);
    write_text(file.temp_path(), "half");
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(read_text(path), "old");
}

TEST(AtomicFileTest, ExistingPathWithoutOverwriteIsInputError) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  write_text(path, "old");
  try {
    AtomicFile file(path, false);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), path + " exists; pass --force to overwrite");
  }
  EXPECT_EQ(read_text(path), "old");
}

TEST(AtomicFileTest, OverwriteReplacesTheExistingFile) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  write_text(path, "old");
  AtomicFile file(path, true);
  write_text(file.temp_path(), "new");
  file.commit();
  EXPECT_EQ(read_text(path), "new");
}

TEST(AtomicFileTest, StaleTemporaryFromACrashIsRemoved) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  write_text(path + ".tmp", "stale");
  AtomicFile file(path, false);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFileTest, FileThatAppearsBeforeCommitIsNotReplaced) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  {
    AtomicFile file(path, false);
    write_text(file.temp_path(), "new");
    write_text(path, "user's");  // another process got there first
    EXPECT_THROW(file.commit(), InputError);
  }
  EXPECT_EQ(read_text(path), "user's");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(AtomicFileTest, CommitWithoutATemporaryIsRunErrorNamingThePath) {
  const std::string path = test::make_temp_dir("atomic") + "/out.h5";
  AtomicFile file(path, true);
  try {
    file.commit();
    FAIL() << "expected RunError";
  } catch (const RunError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(path + ":", 0), 0u) << error.what();
  }
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
}  // namespace aeflow::io
