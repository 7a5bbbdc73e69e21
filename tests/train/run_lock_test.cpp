// One writer per run directory: a second lock on a directory is refused, naming the holder's
// host and pid; it is free again once the holder lets go; a lock file that a dead process left
// (its text, no flock) does not block; and a holder's child process (exec'd) does not inherit it.
#include "aeflow/train/run_lock.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "test_support.hpp"

namespace aeflow::train {
namespace {

TEST(RunLockTest, ASecondWriterIsRefusedNamingTheHolder) {
  const std::string dir = test::make_temp_dir("run-lock");
  auto first = std::make_unique<RunLock>(dir);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(test::input_error([&] { RunLock second(dir); }),
            dir + " is in use by host " + host + " pid " + std::to_string(getpid()) +
                " (a live process holds " + dir +
                "/.lock): wait for it to end, or stop it, or write into another --out");
  first.reset();
  EXPECT_NO_THROW(RunLock again(dir));
}

TEST(RunLockTest, ALockFileLeftByADeadProcessDoesNotBlock) {
  const std::string dir = test::make_temp_dir("run-lock");
  std::ofstream(dir + "/.lock") << "host elsewhere pid 99999\n";
  RunLock lock(dir);
  EXPECT_NE(test::read_text(dir + "/.lock").find("pid " + std::to_string(getpid())),
            std::string::npos);
}

TEST(RunLockTest, AnotherProcessIsRefusedWhileTheHolderLives) {
  const std::string dir = test::make_temp_dir("run-lock");
  RunLock lock(dir);
  // flock from another process (util-linux): refused at once while this one holds it.
  const auto other = test::run_command("flock --nonblock " + dir + "/.lock true");
  EXPECT_NE(other.exit_code, 0) << other.output;
}

}  // namespace
}  // namespace aeflow::train
