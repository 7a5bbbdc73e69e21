// scripts/plot.py on real aeflow output: a trained run with its encoded file (every picture,
// the latent walks decoded by the aeflow binary), a run with only metrics.h5 (the pictures that
// need nothing else), a sweep (its curves), and refusals. Each picture must load, have a
// reasonable size and not be blank; the circle walk's GIF must move.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "aeflow/io/hdf5.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;
using test::run_command;

// Prints "ok" when every image named on the command line loads, is at least 150 x 60 pixels (a
// strip is short) and is not one flat colour, and every GIF has frames that differ.
constexpr const char* kCheckPictures = R"(import sys
import numpy as np
from PIL import Image, ImageSequence
for path in sys.argv[1:]:
    image = Image.open(path)
    frames = [np.asarray(f.convert('L'), dtype=float) for f in ImageSequence.Iterator(image)]
    assert image.width >= 150 and image.height >= 60, (path, image.size)
    assert frames[0].std() > 5, (path, 'blank', frames[0].std())
    if path.endswith('.gif'):
        assert len(frames) >= 3, (path, len(frames))
        assert max(np.abs(f - frames[0]).max() for f in frames) > 20, (path, 'frames alike')
print('ok')
)";

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run_command(std::string(AEFLOW_PYTHON) + " -c 'import matplotlib, h5py, PIL'").exit_code !=
        0)
      AEFLOW_SKIP_OR_REQUIRE(AEFLOW_PYTHON << " lacks matplotlib, h5py or PIL "
                                              "(scripts/setup.sh installs python3-matplotlib)");
    root_ = test::make_temp_dir("plot");
    data_ = test::write_synthetic_mnist(root_ + "/data", 700, 200);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure() && !root_.empty()) fs::remove_all(root_, ignored);
  }

  test::CommandResult aeflow(const std::string& args) const {
    return run_command(test::aeflow_binary() + " " + args);
  }
  // scripts/plot.py: its stdout (the paths it wrote) in output; its stderr (warnings, errors)
  // appended to root_/plot.err, which errors() reads.
  test::CommandResult plot(const std::string& args) const {
    return run_command("{ " + std::string(AEFLOW_PYTHON) + " " + test::source_dir() +
                       "/scripts/plot.py --aeflow " + test::aeflow_binary() + " " + args + " 2>>" +
                       root_ + "/plot.err; }");
  }
  std::string errors() const { return test::read_text(root_ + "/plot.err"); }
  // A short training run of a K-wide code into root_/NAME.
  std::string train(const std::string& name, int k) const {
    const std::string out = root_ + "/" + name;
    const auto r = aeflow("train --data " + data_ + " --out " + out + " --encoder 784,32," +
                          std::to_string(k) + " --activation elu --code-activation linear" +
                          " --epochs 3 --validation 100 --lr 0.003 --loss mse --batch-size 64"
                          " --lr-schedule constant");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return out;
  }
  // The paths plot.py printed, one a line; each must exist.
  static std::vector<std::string> printed(const std::string& output) {
    std::vector<std::string> paths;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_TRUE(fs::exists(line)) << line;
      paths.push_back(line);
    }
    return paths;
  }
  void expect_pictures(const std::vector<std::string>& paths) const {
    const std::string script = root_ + "/check.py";
    std::ofstream(script) << kCheckPictures;
    std::string command = std::string(AEFLOW_PYTHON) + " " + script;
    for (const std::string& path : paths) command += " " + path;
    const auto r = run_command(command);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_CONTAINS(r.output, "ok");
  }
  static std::vector<std::string> names(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const std::string& path : paths) out.push_back(fs::path(path).filename().string());
    return out;
  }

  std::string root_, data_;
};

TEST_F(PlotTest, ARunWithItsEncodedFileGetsEveryPictureAndTheWalks) {
  const std::string run = train("k2", 2);
  // (encoded with best.h5, as quickstart.sh does: the walks must decode with the same model)
  const auto encoded = aeflow("encode --checkpoint " + run + "/checkpoints/best.h5 --data " +
                              data_ + " --out " + run + "/encoded.h5");
  ASSERT_EQ(encoded.exit_code, 0) << encoded.output;
  const auto r = plot(run);
  ASSERT_EQ(r.exit_code, 0) << r.output << errors();
  EXPECT_EQ(errors(), "");  // no warnings
  const auto md5 = [](const std::string& path) {
    return io::h5::File::open(path).string_attribute("checkpoint_md5");
  };
  EXPECT_EQ(md5(run + "/plots/walk_grid.h5"), md5(run + "/encoded.h5"));
  const std::vector<std::string> paths = printed(r.output);
  EXPECT_EQ(names(paths), (std::vector<std::string>{
                              "reconstructions.png", "loss.png", "training.png", "training.gif",
                              "latent.png", "per_class.png", "errors.png", "walk_grid.png",
                              "walk_circle.png", "walk_circle.gif", "report.html"}));
  const std::vector<std::string> pictures(paths.begin(), paths.end() - 1);
  for (const std::string& path : pictures) EXPECT_EQ(fs::path(path).parent_path(), run + "/plots");
  EXPECT_EQ(paths.back(), run + "/report.html");
  expect_pictures(pictures);
}

// No encoded.h5 and a 3-wide code: the latent scatter (3-D) comes from metrics.h5's samples;
// with --no-walks nothing is decoded; --tsne adds the t-SNE layout (scikit-learn).
TEST_F(PlotTest, ARunWithOnlyItsMetricsGetsThePicturesThatNeedNothingElse) {
  if (run_command(std::string(AEFLOW_PYTHON) + " -c 'import sklearn'").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE(AEFLOW_PYTHON << " lacks sklearn (scripts/setup.sh installs "
                                            "python3-sklearn)");
  const std::string run = train("k3", 3);
  const auto r = plot("--no-walks --tsne " + run);
  ASSERT_EQ(r.exit_code, 0) << r.output << errors();
  const std::vector<std::string> paths = printed(r.output);
  EXPECT_EQ(names(paths),
            (std::vector<std::string>{"reconstructions.png", "loss.png", "training.png",
                                      "training.gif", "latent.png", "latent_tsne.png",
                                      "per_class.png", "errors.png", "report.html"}));
  expect_pictures({paths.begin(), paths.end() - 1});
  EXPECT_FALSE(fs::exists(run + "/plots/walk_grid.png"));
}

TEST_F(PlotTest, ASweepGetsItsErrorAgainstKAndItsCurves) {
  const std::string sweep = root_ + "/sweep";
  const auto swept = aeflow("sweep --data " + data_ + " --out " + sweep +
                            " --encoder 784,32,2 --dims 2,4 --epochs 2 --validation 100");
  ASSERT_EQ(swept.exit_code, 0) << swept.output;
  const auto r = plot(sweep);
  ASSERT_EQ(r.exit_code, 0) << r.output << errors();
  const std::vector<std::string> paths = printed(r.output);
  // Each run's pictures and page (11 each), then the sweep's.
  ASSERT_EQ(paths.size(), 2 * 11 + 4u) << r.output;
  const std::vector<std::string> own(paths.end() - 4, paths.end());
  EXPECT_EQ(names(own), (std::vector<std::string>{"sweep_rmse.png", "sweep_knn.png",
                                                  "sweep_curves.png", "report.html"}));
  expect_pictures({own.begin(), own.end() - 1});
  // The sweep's page links every run's page.
  const std::string page = test::read_text(sweep + "/report.html");
  for (const std::string& path : paths) {
    if (fs::path(path).filename() != "report.html" || path == sweep + "/report.html") continue;
    EXPECT_CONTAINS(
        page, "href=\"" + fs::path(path).parent_path().filename().string() + "/report.html\"");
  }
}

// The run's page in a real browser (Debian's headless Chromium): it renders, shows its tables
// and every picture, and text from the configuration is shown as text, not markup (the data
// directory's name here holds a tag).
TEST_F(PlotTest, TheRunPageRendersInABrowserWithItsTablesAndPictures) {
  const char* browser = "/usr/bin/chromium";
  if (!fs::exists(browser))
    AEFLOW_SKIP_OR_REQUIRE(browser << " is missing (scripts/setup.sh installs chromium)");
  const std::string tagged = root_ + "/data<b>x";
  fs::rename(data_, tagged);
  data_ = "'" + tagged + "'";
  const std::string run = train("page", 2);
  const auto r = plot(run);
  ASSERT_EQ(r.exit_code, 0) << r.output << errors();
  const std::string page = test::read_text(run + "/report.html");
  EXPECT_CONTAINS(page, "data&lt;b&gt;x");
  EXPECT_EQ(page.find("data<b>x"), std::string::npos);
  const std::string flags = std::string(browser) +
                            " --headless=new --no-sandbox --disable-gpu --hide-scrollbars"
                            " --window-size=1200,2400 ";
  const auto shot =
      run_command(flags + "--screenshot=" + root_ + "/shot.png file://" + run + "/report.html");
  ASSERT_EQ(shot.exit_code, 0) << shot.output;
  expect_pictures({root_ + "/shot.png"});
  // The page as the browser built it: both tables, and all ten pictures as images.
  const auto dom = run_command(flags + "--dump-dom file://" + run + "/report.html");
  ASSERT_EQ(dom.exit_code, 0) << dom.output;
  EXPECT_CONTAINS(dom.output, "<h2>Reconstruction beside PCA</h2><table>");
  EXPECT_CONTAINS(dom.output, "<h2>Per digit</h2><table>");
  size_t images = 0;
  for (size_t at = dom.output.find("<img src=\"data:image/"); at != std::string::npos;
       at = dom.output.find("<img src=\"data:image/", at + 1))
    ++images;
  EXPECT_EQ(images, 10u);
  // Each embedded picture is a whole image.
  const std::string decode = root_ + "/decode.py";
  std::ofstream(decode) << "import base64, io, re, sys\nfrom PIL import Image\n"
                           "page = open(sys.argv[1]).read()\n"
                           "found = re.findall(r'src=\"data:image/(?:png|gif);base64,([^\"]+)\"', "
                           "page)\n"
                           "sizes = [Image.open(io.BytesIO(base64.b64decode(d))).size for d in "
                           "found]\n"
                           "assert len(sizes) == 10 and min(min(s) for s in sizes) >= 60, sizes\n"
                           "print('ok')\n";
  const auto decoded =
      run_command(std::string(AEFLOW_PYTHON) + " " + decode + " '" + run + "/report.html'");
  EXPECT_EQ(decoded.exit_code, 0) << decoded.output;
  EXPECT_CONTAINS(decoded.output, "ok");
}

TEST_F(PlotTest, ADirectoryWithoutResultsOrAFileOfAnotherVersionExits2) {
  fs::create_directories(root_ + "/empty");
  const auto empty = plot(root_ + "/empty");
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_CONTAINS(errors(), "plot.py: error: " + root_ +
                                "/empty: holds neither metrics.h5 (a run) nor sweep.h5 (a "
                                "sweep)");
  const std::string run = train("future", 2);
  const auto relabel = run_command(std::string(AEFLOW_PYTHON) + " -c \"import h5py; h5py.File('" +
                                   run + "/metrics.h5', 'r+').attrs['format_version'] = 9\"");
  ASSERT_EQ(relabel.exit_code, 0) << relabel.output;
  const auto future = plot(run);
  EXPECT_EQ(future.exit_code, 2) << future.output;
  EXPECT_CONTAINS(errors(), run +
                                "/metrics.h5: aeflow-metrics format_version 9 is not "
                                "supported; this reader reads version 1");
}

}  // namespace
}  // namespace aeflow
