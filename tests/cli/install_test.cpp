// `cmake --install` into a fresh prefix, as a cluster's admin installs aeflow once on a shared
// filesystem: the binary, the Slurm scripts, the job files and the docs land where the README
// says, and the installed binary runs from there (outside the build tree), finding its job files
// by the installed path.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

TEST(InstallTest, TheBinaryScriptsJobsAndDocsLandUnderThePrefixAndTheBinaryRuns) {
  const std::string prefix = test::make_temp_dir("install") + "/prefix";
  const auto install = test::run_command(std::string(AEFLOW_CMAKE) + " --install " +
                                         AEFLOW_BUILD_DIR + " --prefix " + prefix);
  ASSERT_EQ(install.exit_code, 0) << install.output;
  for (const char* file :
       {"bin/aeflow", "share/aeflow/slurm/train.sbatch", "share/aeflow/jobs/quickstart.ini",
        "share/aeflow/jobs/sweep_bottleneck.ini", "share/doc/aeflow/README.md",
        "share/doc/aeflow/hdf5-schema.md", "share/doc/aeflow/architecture.md",
        "share/aeflow/scripts/plot.py", "share/aeflow/scripts/report.py",
        "share/aeflow/python/aeflow/__init__.py", "share/aeflow/python/aeflow/files.py"})
    EXPECT_TRUE(fs::is_regular_file(prefix + "/" + file)) << file << "\n" << install.output;
  EXPECT_NE(fs::status(prefix + "/bin/aeflow").permissions() & fs::perms::owner_exec,
            fs::perms::none);
  EXPECT_NE(
      fs::status(prefix + "/share/aeflow/slurm/train.sbatch").permissions() & fs::perms::owner_exec,
      fs::perms::none);
  EXPECT_FALSE(fs::exists(prefix + "/bin/aeflow_tests"));  // (tests and benchmarks stay behind)

  const auto version = test::run_command("cd / && " + prefix + "/bin/aeflow --version");
  EXPECT_EQ(version.exit_code, 0) << version.output;
  EXPECT_CONTAINS(version.output, "aeflow ");
  const auto count =
      test::run_command("cd / && " + prefix + "/bin/aeflow sweep --config " + prefix +
                        "/share/aeflow/jobs/sweep_bottleneck.ini " + "--array-count");
  EXPECT_EQ(count.exit_code, 0) << count.output;
  EXPECT_EQ(count.output, "8\n");
  // The installed plot.py finds the installed package (its format versions) and runs.
  const auto plot = test::run_command("cd / && " + std::string(AEFLOW_PYTHON) + " " + prefix +
                                      "/share/aeflow/scripts/plot.py --help");
  EXPECT_EQ(plot.exit_code, 0) << plot.output;
  EXPECT_CONTAINS(plot.output, "usage: plot.py");
}

}  // namespace
}  // namespace aeflow
