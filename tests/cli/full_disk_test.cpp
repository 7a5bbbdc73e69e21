// A disk that fills while `aeflow encode` or `aeflow eval` writes (a 1 MiB tmpfs in a mount
// namespace, nearly full): exit 1 with the reason, no half file under the real name, and an
// output it was to replace (--force) still whole. (Training's full disk: cli_test.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (test::run_command("unshare --mount true").exit_code != 0)
      AEFLOW_SKIP_OR_REQUIRE("cannot make a mount namespace here (unshare --mount)");
    root_ = test::make_temp_dir("full-disk");
    data_ = test::write_synthetic_mnist(root_ + "/data", 600, 200);
    model_ = root_ + "/model.h5";
    test::write_initialized_checkpoint(model_, {784, 32, 4}, 7);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure() && !root_.empty()) fs::remove_all(root_, ignored);
  }

  // Runs, in a mount namespace with a 1 MiB tmpfs on DISK: FIRST (with room), then fills the
  // disk to FREE_KIB, then SECOND, and copies the disk's files to AFTER. Returns the output, in
  // which "first=N" and "second=N" give the exit codes.
  std::string on_a_small_disk(const std::string& first, int free_kib,
                              const std::string& second) const {
    const std::string disk = root_ + "/disk";
    fs::create_directories(disk);
    const std::string script = "mount -t tmpfs -o size=1M tmpfs " + disk + " || exit 9; " + first +
                               "; echo \"first=$?\"; used=$(du -sk " + disk +
                               " | cut -f1); head -c $(( (1024 - " + std::to_string(free_kib) +
                               " - used) * 1024 )) /dev/zero > " + disk + "/filler; " + second +
                               "; echo \"second=$?\"; rm -f " + disk + "/filler; mkdir -p " +
                               after() + " && cp -a " + disk + "/. " + after();
    const auto r = test::run_command("unshare --mount sh -c '" + script + "'");
    return r.output;
  }
  std::string after() const { return root_ + "/after"; }
  static std::string code(const std::string& output, const std::string& name) {
    std::smatch match;
    return std::regex_search(output, match, std::regex(name + "=([0-9]+)\n")) ? match[1].str()
                                                                              : "(none)";
  }

  std::string root_, data_, model_;
};

TEST_F(FullDiskTest, EncodeFailsWithTheReasonAndTheOldOutputStaysWhole) {
  const std::string disk = root_ + "/disk";
  const std::string encode = test::aeflow_binary() + " encode --checkpoint " + model_ + " --data " +
                             data_ + " --chunk 256 --deflate 0 --out " + disk + "/codes.h5";
  const std::string output =
      on_a_small_disk(encode + " && md5sum " + disk + "/codes.h5 > " + root_ + "/before.md5", 8,
                      encode + " --force");
  if (code(output, "first") == "(none)") AEFLOW_SKIP_OR_REQUIRE("no tmpfs here:\n" << output);
  ASSERT_EQ(code(output, "first"), "0") << output;
  EXPECT_EQ(code(output, "second"), "1") << output;
  EXPECT_CONTAINS(output, "No space left on device");
  EXPECT_FALSE(fs::exists(after() + "/codes.h5.tmp")) << output;
  // The file it was to replace, whole: the bytes it had.
  const std::string old_sum = test::read_text(root_ + "/before.md5");
  const auto now = test::run_command("md5sum " + after() + "/codes.h5");
  EXPECT_EQ(now.output.substr(0, 32), old_sum.substr(0, 32));
  if (!HasFailure()) test::record_count("full_disks_survived", 1);
}

TEST_F(FullDiskTest, EvalFailsWithTheReasonAndLeavesNoFile) {
  const std::string disk = root_ + "/disk";
  const std::string eval = test::aeflow_binary() + " eval --checkpoint " + model_ + " --data " +
                           data_ + " --validation 100 --out " + disk + "/metrics.h5";
  const std::string output = on_a_small_disk("true", 32, eval);
  if (code(output, "first") == "(none)") AEFLOW_SKIP_OR_REQUIRE("no tmpfs here:\n" << output);
  EXPECT_EQ(code(output, "second"), "1") << output;
  EXPECT_CONTAINS(output, "No space left on device");
  EXPECT_FALSE(fs::exists(after() + "/metrics.h5")) << output;
  EXPECT_FALSE(fs::exists(after() + "/metrics.h5.tmp")) << output;
  if (!HasFailure()) test::record_count("full_disks_survived", 1);
}

}  // namespace
}  // namespace aeflow
