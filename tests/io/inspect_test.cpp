// `aeflow inspect`'s printer: a checkpoint shows its format, summary, layers and shapes, and the
// config last; a sweep table's string columns are printed; a foreign HDF5 file is shown with a
// note; missing and non-HDF5 files are refused.
#include "aeflow/io/inspect.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "aeflow/base/error.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/hdf5.hpp"
#include "aeflow/io/sweep_table.hpp"
#include "test_support.hpp"

namespace aeflow::io {
namespace {

CheckpointData small_checkpoint() {
  CheckpointData c;
  c.config_ini = "[model]\nencoder = 6,4,2\n";
  c.spec.encoder = {6, 4, 2};
  c.spec.tied = true;
  c.loss = "mse";
  const auto layers = c.spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string name = "layer_0" + std::to_string(i);
    const auto out = size_t(layers[i].out), in = size_t(layers[i].in);
    if (layers[i].tied_to < 0)
      c.parameters.push_back({name + "/weight", {out, in}, std::vector<float>(out * in, 0.5f)});
    c.parameters.push_back({name + "/bias", {out}, std::vector<float>(out, 0.25f)});
  }
  c.optimizer = "sgd";
  c.optimizer_step = 10;
  c.state.epoch = 2;
  c.state.global_step = 10;
  c.history = {{1, 5, 0.5, 0.45, 0.67, 0.01, 1.0}, {2, 10, 0.25, 0.2, 0.44, 0.01, 1.0}};
  return c;
}

size_t position(const std::string& text, const std::string& part) {
  const size_t at = text.find(part);
  EXPECT_NE(at, std::string::npos) << "output lacks '" << part << "':\n" << text;
  return at;
}

TEST(InspectTest, CheckpointShowsFormatSummaryLayersAndShapes) {
  const std::string path = test::make_temp_dir("inspect") + "/ck.h5";
  write_checkpoint(path, small_checkpoint());
  std::ostringstream out;
  inspect_file(path, out);
  const std::string text = out.str();
  position(text, path + ": aeflow-checkpoint, format_version 2");
  position(text, "model 6-4-2-4-6 sigmoid/sigmoid/sigmoid tied");
  position(text, "optimizer sgd (step 10)");
  position(text, "last epoch 2: train_loss 0.25, val_loss 0.2");
  position(text, "@format = \"aeflow-checkpoint\"");
  position(text, "@encoder = [6, 4, 2]");
  position(text, "@decoder = [2, 4, 6]");
  position(text, "layer_00/");
  position(text, "weight  float32 [4, 6]");
  position(text, "layer_03/");
  position(text, "@tied_to = 0");
  position(text, "bias  float32 [6]");
  position(text, "epoch  int64 [2], 16 B stored = [1, 2]");
  // The config comes last, indented, not in the middle of the tree.
  EXPECT_LT(position(text, "layer_03/"), position(text, "\nconfig:\n    [model]\n"));
  position(text, "@config = (printed at the end)");
}

TEST(InspectTest, ForeignHdf5FileIsShownWithANote) {
  const std::string path = test::make_temp_dir("inspect") + "/other.h5";
  {
    h5::File file = h5::File::create(path, h5::CreateMode::kExclusive);
    file.write_dataset<double>("images", std::vector<double>(30 * 4), {30, 4}, {{10, 4}, 6, false});
    file.create_group("meta").set_string_attribute("source", "somewhere");
  }
  std::ostringstream out;
  inspect_file(path, out);
  const std::string text = out.str();
  position(text, "note: not an aeflow file (no 'format' attribute)");
  position(text, "images  float64 [30, 4], chunks [10, 4], deflate(6)");
  position(text, "meta/\n    @source = \"somewhere\"");
}

// A sweep table: its short string columns are printed whole, like short numeric ones.
TEST(InspectTest, SweepTableShowsItsStringColumns) {
  const std::string path = test::make_temp_dir("inspect") + "/sweep.h5";
  SweepRow row;
  row.name = "k=2,lr=0.003";
  row.settings = {{"k", "2"}, {"lr", "0.003"}};
  row.k = 2;
  row.status = RunStatus::kFailed;
  write_sweep_table(path, "[sweep]\ndims = 2\n", {row});
  std::ostringstream out;
  inspect_file(path, out);
  const std::string text = out.str();
  position(text, "aeflow-sweep, format_version 1");
  position(text, "name  string [1], ");
  position(text, " = [\"k=2,lr=0.003\"]");
  position(text, "status  string [1], ");
  position(text, " = [\"failed\"]");
}

TEST(InspectTest, MissingOrNonHdf5FileIsInputError) {
  const std::string dir = test::make_temp_dir("inspect");
  test::write_file(dir + "/notes.txt", {'h', 'i'});
  std::ostringstream out;
  EXPECT_THROW(inspect_file(dir + "/missing.h5", out), InputError);
  try {
    inspect_file(dir + "/notes.txt", out);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), dir + "/notes.txt: not an HDF5 file");
  }
}

}  // namespace
}  // namespace aeflow::io
