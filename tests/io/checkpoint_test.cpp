// Checkpoints: bitwise round trips (tied, untied, a decoder that does not mirror), version 1
// files read as mirrored, an empty history, refusal of missing,
// foreign and damaged files with the path in the message, failed writes that leave the old
// checkpoint alone, and a read-back by h5py (the contract with analysis scripts).
#include "aeflow/io/checkpoint.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/io/hdf5.hpp"
#include "test_support.hpp"

namespace aeflow::io {
namespace {

namespace fs = std::filesystem;
using test::expect_error;

std::string layer_name(size_t i) {
  char name[32];
  std::snprintf(name, sizeof name, "layer_%02zu", i);
  return name;
}

// Exactly representable, distinct per layer and position, with a few awkward values mixed in.
float parameter_value(size_t layer, size_t k) {
  if (k == 3) return -0.0f;
  if (k == 5) return std::numeric_limits<float>::denorm_min();
  return float(int(k) - 10) * 0.125f + float(layer);
}

CheckpointData sample_checkpoint(bool tied, size_t history_rows = 3,
                                 std::optional<std::vector<int>> decoder = std::nullopt) {
  CheckpointData c;
  c.config_ini = "[model]\nencoder = 6,4,2\ntied = " + std::string(tied ? "true" : "false") +
                 "\n\n[train]\nlr = 0.001\n";
  c.spec.encoder = {6, 4, 2};
  c.spec.hidden = model::Activation::kRelu;
  c.spec.code = model::Activation::kLinear;
  c.spec.output = model::Activation::kSigmoid;
  c.spec.tied = tied;
  c.spec.decoder = decoder;
  c.spec.dropout = 0.1f;
  c.spec.init = model::parse_init("truncated_normal", 0.05f, 0.01f);
  c.loss = "bce";
  const std::vector<model::LayerSpec> layers = c.spec.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto out = size_t(layers[i].out), in = size_t(layers[i].in);
    if (layers[i].tied_to < 0) {
      NamedArray weight{layer_name(i) + "/weight", {out, in}, {}};
      for (size_t k = 0; k < out * in; ++k) weight.values.push_back(parameter_value(i, k));
      c.parameters.push_back(weight);
    }
    NamedArray bias{layer_name(i) + "/bias", {out}, {}};
    for (size_t k = 0; k < out; ++k) bias.values.push_back(parameter_value(i + 100, k));
    c.parameters.push_back(bias);
  }
  c.optimizer = "adam";
  c.optimizer_step = 17;
  const size_t n = c.spec.parameter_count();
  NamedArray m{"m", {n}, std::vector<float>(n, 0.5f)}, v{"v", {n}, std::vector<float>(n)};
  for (size_t k = 0; k < n; ++k) v.values[k] = 1.0f / float(k + 3);
  c.optimizer_state = {m, v};
  c.state.epoch = 3;
  c.state.step_in_epoch = 2;
  c.state.global_step = 17;
  c.state.world_size = 4;
  c.state.seed = std::numeric_limits<uint64_t>::max() - 1;
  c.state.best_monitor = std::numeric_limits<double>::infinity();
  c.state.bad_epochs = 1;
  c.state.best_val_loss = 0.1 + 0.2;
  c.state.train_loss_total = 1.0 / 3.0;
  c.state.train_loss_images = 2;
  c.state.finished = true;
  for (size_t r = 0; r < history_rows; ++r) {
    HistoryRow row;
    row.epoch = int64_t(r + 1);
    row.step = int64_t(5 * (r + 1));
    row.train_loss = 0.7 / double(r + 1);
    row.val_loss = r == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.6 / double(r + 1);
    row.val_rmse = r == 0 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(row.val_loss);
    row.learning_rate = 1e-3 * std::pow(0.5, double(r));
    row.seconds = 1.25 * double(r + 1);
    c.history.push_back(row);
  }
  return c;
}

uint64_t bits(double x) {
  return std::bit_cast<uint64_t>(x);
}

void expect_arrays_bitwise_equal(const std::vector<NamedArray>& a,
                                 const std::vector<NamedArray>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].shape, b[i].shape) << a[i].name;
    ASSERT_EQ(a[i].values.size(), b[i].values.size()) << a[i].name;
    for (size_t k = 0; k < a[i].values.size(); ++k)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i].values[k]), std::bit_cast<uint32_t>(b[i].values[k]))
          << a[i].name << "[" << k << "]";
  }
}

void expect_bitwise_equal(const CheckpointData& a, const CheckpointData& b) {
  EXPECT_EQ(a.config_ini, b.config_ini);
  EXPECT_EQ(a.spec.encoder, b.spec.encoder);
  EXPECT_EQ(a.spec.hidden, b.spec.hidden);
  EXPECT_EQ(a.spec.code, b.spec.code);
  EXPECT_EQ(a.spec.output, b.spec.output);
  EXPECT_EQ(a.spec.tied, b.spec.tied);
  EXPECT_EQ(std::bit_cast<uint32_t>(a.spec.dropout), std::bit_cast<uint32_t>(b.spec.dropout));
  EXPECT_EQ(a.spec.init.kind, b.spec.init.kind);
  EXPECT_EQ(std::bit_cast<uint32_t>(a.spec.init.stddev),
            std::bit_cast<uint32_t>(b.spec.init.stddev));
  EXPECT_EQ(std::bit_cast<uint32_t>(a.spec.init.bias), std::bit_cast<uint32_t>(b.spec.init.bias));
  EXPECT_EQ(a.loss, b.loss);
  expect_arrays_bitwise_equal(a.parameters, b.parameters);
  EXPECT_EQ(a.optimizer, b.optimizer);
  expect_arrays_bitwise_equal(a.optimizer_state, b.optimizer_state);
  EXPECT_EQ(a.optimizer_step, b.optimizer_step);
  EXPECT_EQ(a.state.epoch, b.state.epoch);
  EXPECT_EQ(a.state.step_in_epoch, b.state.step_in_epoch);
  EXPECT_EQ(a.state.global_step, b.state.global_step);
  EXPECT_EQ(a.state.world_size, b.state.world_size);
  EXPECT_EQ(a.state.seed, b.state.seed);
  EXPECT_EQ(bits(a.state.best_monitor), bits(b.state.best_monitor));
  EXPECT_EQ(a.state.bad_epochs, b.state.bad_epochs);
  EXPECT_EQ(bits(a.state.best_val_loss), bits(b.state.best_val_loss));
  EXPECT_EQ(bits(a.state.train_loss_total), bits(b.state.train_loss_total));
  EXPECT_EQ(a.state.train_loss_images, b.state.train_loss_images);
  EXPECT_EQ(a.state.finished, b.state.finished);
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t r = 0; r < a.history.size(); ++r) {
    const HistoryRow &x = a.history[r], &y = b.history[r];
    EXPECT_EQ(x.epoch, y.epoch);
    EXPECT_EQ(x.step, y.step);
    EXPECT_EQ(bits(x.train_loss), bits(y.train_loss));
    EXPECT_EQ(bits(x.val_loss), bits(y.val_loss));
    EXPECT_EQ(bits(x.val_rmse), bits(y.val_rmse));
    EXPECT_EQ(bits(x.learning_rate), bits(y.learning_rate));
    EXPECT_EQ(bits(x.seconds), bits(y.seconds));
  }
}

TEST(CheckpointTest, UntiedRoundTripIsBitwiseEqual) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData written = sample_checkpoint(false);
  write_checkpoint(path, written);
  expect_bitwise_equal(written, read_checkpoint(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointTest, TiedRoundTripIsBitwiseEqualAndStoresNoDecoderWeights) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData written = sample_checkpoint(true);
  ASSERT_EQ(written.parameters.size(), 6u);  // two encoder weights, four biases
  write_checkpoint(path, written);
  const CheckpointData read = read_checkpoint(path);
  expect_bitwise_equal(written, read);
  const h5::File file = h5::File::open(path);
  EXPECT_FALSE(file.exists("model/layer_02/weight"));
  EXPECT_EQ(file.open_group("model/layer_02").int_attribute("tied_to"), 1);
  EXPECT_EQ(file.open_group("model/layer_03").int_attribute("tied_to"), 0);
}

TEST(CheckpointTest, AnAsymmetricDecoderRoundTripsWithItsWidths) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData written = sample_checkpoint(false, 3, std::vector<int>{3, 5});
  ASSERT_EQ(written.parameters.size(), 10u);  // 6-4-2 then 2-3-5-6: five weights, five biases
  write_checkpoint(path, written);
  const CheckpointData read = read_checkpoint(path);
  expect_bitwise_equal(written, read);
  EXPECT_EQ(read.spec.decoder, (std::vector<int>{3, 5}));
  EXPECT_EQ(read.spec.decoder_widths(), (std::vector<int>{2, 3, 5, 6}));
  const h5::File file = h5::File::open(path);
  EXPECT_EQ(file.open_group("model").int_vector_attribute("decoder"),
            (std::vector<int64_t>{2, 3, 5, 6}));
  EXPECT_EQ(file.open_dataset("model/layer_03/weight").info().shape, (std::vector<size_t>{5, 3}));
  // A mirror written out reads back as a mirror (unset), as `--decoder mirror` gives.
  write_checkpoint(path, sample_checkpoint(false, 3, std::vector<int>{4}));
  EXPECT_EQ(read_checkpoint(path).spec.decoder, std::nullopt);
}

// Version 1 files have no decoder widths: their decoder is the mirror, the only one there was.
void make_version_1(const std::string& path) {
  {  // (the wrapper cannot delete attributes)
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t model = H5Gopen2(file, "model", H5P_DEFAULT);
    EXPECT_GE(H5Adelete(model, "decoder"), 0);
    H5Gclose(model);
    H5Fclose(file);
  }
  h5::File::open(path, h5::Access::kReadWrite).set_int_attribute("format_version", 1);
}

TEST(CheckpointTest, AVersion1FileReadsAsTheMirroredDecoder) {
  const std::string dir = test::make_temp_dir("checkpoint");
  for (bool tied : {false, true}) {
    const CheckpointData written = sample_checkpoint(tied);
    write_checkpoint(dir + "/v1.h5", written);
    make_version_1(dir + "/v1.h5");
    const CheckpointData read = read_checkpoint(dir + "/v1.h5");
    expect_bitwise_equal(written, read);
    EXPECT_EQ(read.spec.decoder, std::nullopt);
  }
  // An asymmetric model's file relabeled as version 1 does not pass for a mirror.
  write_checkpoint(dir + "/v1.h5", sample_checkpoint(false, 3, std::vector<int>{3, 5}));
  make_version_1(dir + "/v1.h5");
  expect_error<InputError>([&] { read_checkpoint(dir + "/v1.h5"); },
                           {dir + "/v1.h5: /model/layer_04 does not belong to model 6-4-2-4-6"});
}

TEST(CheckpointTest, DecoderWidthsThatDoNotJoinTheCodeToTheInputAreRefused) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  write_checkpoint(path, sample_checkpoint(false));
  h5::File::open(path, h5::Access::kReadWrite)
      .open_group("model")
      .set_int_vector_attribute("decoder", {3, 4, 6});
  expect_error<InputError>([&] { read_checkpoint(path); },
                           {path + ": /model: decoder 3,4,6 does not lead from the code (2) to "
                                   "the input (6)"});
  write_checkpoint(path, sample_checkpoint(false));
  make_version_1(path);
  h5::File::open(path, h5::Access::kReadWrite).set_int_attribute("format_version", 2);
  expect_error<InputError>([&] { read_checkpoint(path); }, {path, "decoder"});
}

// The training animation's frames travel with the history: a frame per epoch, and a frame of
// an epoch that already has one (a partial epoch, resumed) replaces it.
TEST(CheckpointTest, SnapshotsRoundTripAndAFrameOfTheSameEpochReplacesTheLast) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  CheckpointData written = sample_checkpoint(false);
  Snapshots& s = written.snapshots;
  s.split = "validation";
  s.index = {3, 0};
  s.label = {0, 1};
  s.rows = 2;
  s.cols = 3;
  s.input = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255};
  const std::vector<float> first(12, 0.5f), second(12, 1.5f), again(12, -1.0f);
  s.add_frame(1, first.data());
  s.add_frame(2, second.data());
  s.add_frame(2, again.data());  // epoch 2 again: replaces
  EXPECT_EQ(s.epoch, (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(s.frames.size(), 24u);
  EXPECT_EQ(s.frames[0], 128);  // 0.5 * 255 rounded
  EXPECT_EQ(s.frames[12], 0);   // clamped
  write_checkpoint(path, written);
  const CheckpointData read = read_checkpoint(path);
  EXPECT_EQ(read.snapshots, written.snapshots);
  std::vector<size_t> shape;
  h5::File::open(path).read_dataset<uint8_t>("history/snapshots/frames", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{2, 2, 2, 3}));
  // Without snapshots there is no group, and none is read.
  write_checkpoint(path, sample_checkpoint(false));
  EXPECT_FALSE(h5::File::open(path).exists("history/snapshots"));
  EXPECT_EQ(read_checkpoint(path).snapshots.count(), 0u);
  // Shapes that disagree are damage.
  write_checkpoint(path, written);
  h5::File::open(path, h5::Access::kReadWrite)
      .open_group("history/snapshots")
      .set_int_attribute("cols", 4);
  expect_error<InputError>([&] { read_checkpoint(path); },
                           {path + ": /history/snapshots: index, label, input and frames "
                                   "disagree in shape (damaged file)"});
}

TEST(CheckpointTest, ZeroRowHistoryRoundTrips) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData written = sample_checkpoint(false, 0);
  write_checkpoint(path, written);
  const CheckpointData read = read_checkpoint(path);
  EXPECT_TRUE(read.history.empty());
  expect_bitwise_equal(written, read);
  const h5::File file = h5::File::open(path);
  EXPECT_EQ(file.open_dataset("history/val_loss").info().shape, (std::vector<size_t>{0}));
}

TEST(CheckpointTest, RewriteReplacesTheCheckpoint) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  write_checkpoint(path, sample_checkpoint(false));
  CheckpointData later = sample_checkpoint(false, 4);
  later.state.epoch = 4;
  write_checkpoint(path, later);
  expect_bitwise_equal(later, read_checkpoint(path));
}

TEST(CheckpointTest, MissingFileIsInputErrorNamingThePath) {
  const std::string path = test::make_temp_dir("checkpoint") + "/none.h5";
  expect_error<InputError>([&] { read_checkpoint(path); }, {path, "no such file"});
}

TEST(CheckpointTest, NonHdf5FileIsInputErrorNamingThePath) {
  const std::string path = test::make_temp_dir("checkpoint") + "/text.h5";
  test::write_file(path, std::vector<uint8_t>(100, 'x'));
  expect_error<InputError>([&] { read_checkpoint(path); }, {path + ": not an HDF5 file"});
}

TEST(CheckpointTest, OtherFormatsAreInputErrorNamingThePath) {
  const std::string dir = test::make_temp_dir("checkpoint");
  {
    h5::File encoded = h5::File::create(dir + "/encoded.h5", h5::CreateMode::kExclusive);
    encoded.set_string_attribute("format", "aeflow-encoded");
    encoded.set_int_attribute("format_version", 1);
    h5::File plain = h5::File::create(dir + "/plain.h5", h5::CreateMode::kExclusive);
    plain.write_dataset("x", std::vector<float>{1, 2});
  }
  expect_error<InputError>([&] { read_checkpoint(dir + "/encoded.h5"); },
                           {dir + "/encoded.h5: is an aeflow-encoded file, not a checkpoint"});
  expect_error<InputError>([&] { read_checkpoint(dir + "/plain.h5"); },
                           {dir + "/plain.h5: not an aeflow file"});
}

TEST(CheckpointTest, NewerFormatVersionAndDamagedFilesAreRefused) {
  const std::string dir = test::make_temp_dir("checkpoint");
  write_checkpoint(dir + "/v2.h5", sample_checkpoint(false));
  h5::File::open(dir + "/v2.h5", h5::Access::kReadWrite).set_int_attribute("format_version", 3);
  expect_error<InputError>([&] { read_checkpoint(dir + "/v2.h5"); },
                           {dir + "/v2.h5: aeflow-checkpoint format_version 3 is not supported; "
                                  "this aeflow reads version 1 to 2"});

  write_checkpoint(dir + "/damaged.h5", sample_checkpoint(false));
  h5::File::open(dir + "/damaged.h5", h5::Access::kReadWrite)
      .open_group("state")
      .set_string_attribute("epoch", "three");
  expect_error<InputError>([&] { read_checkpoint(dir + "/damaged.h5"); },
                           {dir + "/damaged.h5", "/state", "epoch"});
}

// The settings that decide which images each step takes are typed attributes of /state; files
// from before them read the values from their config's INI text, and -1 where it has none.
TEST(CheckpointTest, RunSettingsAreAttributesAndOlderFilesReadThemFromTheConfig) {
  const std::string dir = test::make_temp_dir("checkpoint");
  CheckpointData c = sample_checkpoint(false);
  c.state.batch_size = 128;
  c.state.validation = 0;
  c.state.train_limit = 700;
  write_checkpoint(dir + "/new.h5", c);
  const CheckpointData read = read_checkpoint(dir + "/new.h5");
  EXPECT_EQ(read.state.batch_size, 128);
  EXPECT_EQ(read.state.validation, 0);
  EXPECT_EQ(read.state.train_limit, 700);

  CheckpointData old = sample_checkpoint(false);  // (-1: written without the attributes)
  old.config_ini = "[train]\nbatch-size = 50\nvalidation = 1000\n";
  write_checkpoint(dir + "/old.h5", old);
  EXPECT_FALSE(h5::File::open(dir + "/old.h5").open_group("state").has_attribute("batch_size"));
  const CheckpointData older = read_checkpoint(dir + "/old.h5");
  EXPECT_EQ(older.state.batch_size, 50);
  EXPECT_EQ(older.state.validation, 1000);
  EXPECT_EQ(older.state.train_limit, -1);  // (not in that config: not checked on resume)
}

// A NaN or an infinity in the model or the optimizer's state is damage: refused on reading,
// naming the array and the index, rather than trained on or encoded into NaN codes.
TEST(CheckpointTest, NanOrInfinityInTheModelOrTheOptimizerIsRefused) {
  const std::string dir = test::make_temp_dir("checkpoint");
  CheckpointData nan_model = sample_checkpoint(false);
  nan_model.parameters[1].values[2] = std::numeric_limits<float>::quiet_NaN();
  write_checkpoint(dir + "/nan.h5", nan_model);
  expect_error<InputError>([&] { read_checkpoint(dir + "/nan.h5"); },
                           {dir + "/nan.h5: /model/" + nan_model.parameters[1].name +
                            " holds NaN at index 2 (damaged checkpoint)"});
  CheckpointData inf_state = sample_checkpoint(false);
  inf_state.optimizer_state[1].values[5] = -std::numeric_limits<float>::infinity();
  write_checkpoint(dir + "/inf.h5", inf_state);
  expect_error<InputError>([&] { read_checkpoint(dir + "/inf.h5"); },
                           {dir + "/inf.h5: /optimizer/v holds an infinity at index 5"});
  // The same arrays, finite, read.
  write_checkpoint(dir + "/fine.h5", sample_checkpoint(false));
  EXPECT_NO_THROW(read_checkpoint(dir + "/fine.h5"));
}

// Older checkpoints kept the epoch's running train loss as batch losses times batch sizes
// (train_loss_sum, train_loss_batches); they read as the total over elements: times the width,
// and for RMSE (batch roots) the mean root squared.
void write_legacy_train_loss(const std::string& path, double sum, int64_t images) {
  {  // (the wrapper cannot delete attributes)
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t state = H5Gopen2(file, "state", H5P_DEFAULT);
    EXPECT_GE(H5Adelete(state, "train_loss_total"), 0);
    EXPECT_GE(H5Adelete(state, "train_loss_images"), 0);
    H5Gclose(state);
    H5Fclose(file);
  }
  h5::Group state = h5::File::open(path, h5::Access::kReadWrite).open_group("state");
  state.set_double_attribute("train_loss_sum", sum);
  state.set_int_attribute("train_loss_batches", images);
}

TEST(CheckpointTest, OlderRunningTrainLossReadsAsTheTotal) {
  const std::string dir = test::make_temp_dir("checkpoint");
  write_checkpoint(dir + "/bce.h5", sample_checkpoint(false));  // (loss bce)
  write_legacy_train_loss(dir + "/bce.h5", 0.25 * 8, 8);        // mean 0.25 over 8 images
  const CheckpointData bce = read_checkpoint(dir + "/bce.h5");
  EXPECT_EQ(bce.state.train_loss_total, 0.25 * 8 * 6);  // 6 pixels an image in the sample
  EXPECT_EQ(bce.state.train_loss_images, 8);

  CheckpointData rmse_run = sample_checkpoint(false);
  rmse_run.loss = "rmse";
  write_checkpoint(dir + "/rmse.h5", rmse_run);
  write_legacy_train_loss(dir + "/rmse.h5", 0.25 * 8, 8);  // batch RMSEs of 0.25
  const CheckpointData rmse = read_checkpoint(dir + "/rmse.h5");
  EXPECT_EQ(rmse.state.train_loss_total, 0.25 * 0.25 * 8 * 6);  // squared errors summed
}

TEST(CheckpointTest, ShapeMismatchIsRefusedNamingTheDataset) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  write_checkpoint(path, sample_checkpoint(false));
  // Claim a wider hidden layer than the weights hold.
  h5::File::open(path, h5::Access::kReadWrite)
      .open_group("model")
      .set_int_vector_attribute("encoder", {6, 5, 2});
  expect_error<InputError>([&] { read_checkpoint(path); },
                           {path, "/model/layer_00/weight has shape [4,6], expected [5,6]"});
}

// A dataset of the wrong type: a weight stored as float64 (as another tool might write it), the
// optimizer step as a string. Each is refused naming the dataset or attribute and the type.
TEST(CheckpointTest, ADatasetOrAttributeOfTheWrongTypeIsRefusedNamingIt) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  write_checkpoint(path, sample_checkpoint(false));
  {  // (the wrapper cannot delete datasets)
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(H5Ldelete(file, "model/layer_01/weight", H5P_DEFAULT), 0);
    H5Fclose(file);
  }
  h5::File::open(path, h5::Access::kReadWrite)
      .open_group("model/layer_01")
      .write_dataset<double>("weight", std::vector<double>(2 * 4, 0.5), {2, 4});
  expect_error<InputError>([&] { read_checkpoint(path); },
                           {path + ": /model/layer_01/weight is float64, expected float32"});
  write_checkpoint(path, sample_checkpoint(false));
  h5::File::open(path, h5::Access::kReadWrite)
      .open_group("optimizer")
      .set_string_attribute("step", "seventeen");
  expect_error<InputError>([&] { read_checkpoint(path); }, {path, "step"});
}

TEST(CheckpointTest, WriterRefusesParametersThatDoNotMatchTheSpec) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  CheckpointData bad = sample_checkpoint(false);
  bad.parameters[0].values.pop_back();
  expect_error<RunError>([&] { write_checkpoint(path, bad); }, {path, "layer_00/weight"});
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointTest, FailedWriteLeavesTheExistingCheckpointIntact) {
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData good = sample_checkpoint(false);
  write_checkpoint(path, good);
  const std::vector<uint8_t> before = test::read_file(path);

  CheckpointData bad = sample_checkpoint(false);
  bad.optimizer_state[0].name = "";  // fails midway, after the temporary file exists
  expect_error<RunError>([&] { write_checkpoint(path, bad); }, {path + ": cannot write"});
  bad = sample_checkpoint(false);
  bad.parameters.pop_back();  // (and before it)
  expect_error<RunError>([&] { write_checkpoint(path, bad); }, {path + ": cannot write"});
  EXPECT_EQ(test::read_file(path), before);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  expect_bitwise_equal(good, read_checkpoint(path));
}

TEST(CheckpointTest, WriteWhereNoFileCanBeIsRunErrorNamingThePath) {
  const std::string dir = test::make_temp_dir("checkpoint");
  const std::string missing_dir = dir + "/no/such/dir/ck.h5";
  expect_error<RunError>([&] { write_checkpoint(missing_dir, sample_checkpoint(true)); },
                         {missing_dir, "No such file or directory"});
  // A parent that is a regular file stops root as well as anyone.
  test::write_file(dir + "/plain", {'x'});
  const std::string below_file = dir + "/plain/ck.h5";
  expect_error<RunError>([&] { write_checkpoint(below_file, sample_checkpoint(true)); },
                         {below_file});
  EXPECT_EQ(test::read_file(dir + "/plain"), (std::vector<uint8_t>{'x'}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(CheckpointTest, H5pyReadsTheLayout) {
  if (test::run_command(std::string(AEFLOW_PYTHON) + " -c 'import h5py'").exit_code != 0)
    AEFLOW_SKIP_OR_REQUIRE(AEFLOW_PYTHON << " has no h5py");
  const std::string path = test::make_temp_dir("checkpoint") + "/ck.h5";
  const CheckpointData checkpoint = sample_checkpoint(false);
  write_checkpoint(path, checkpoint);
  char value[32];
  std::snprintf(value, sizeof value, "%.9g", double(checkpoint.parameters[0].values[1 * 6 + 2]));
  const std::string script =
      "import sys, h5py, numpy as np\n"
      "f = h5py.File(sys.argv[1], 'r')\n"
      "assert f.attrs['format'] == 'aeflow-checkpoint', repr(f.attrs['format'])\n"
      "assert isinstance(f.attrs['config'], str) and f.attrs['format_version'] == 2\n"
      "assert list(f['model'].attrs['encoder']) == [6, 4, 2]\n"
      "assert list(f['model'].attrs['decoder']) == [2, 4, 6]\n"
      "assert f['model'].attrs['activation'] == 'relu'\n"
      "w = f['model/layer_00/weight']\n"
      "assert w.shape == (4, 6) and w.dtype == np.float32, (w.shape, w.dtype)\n"
      "assert w[1, 2] == np.float32(float(sys.argv[2])), (w[1, 2], sys.argv[2])\n"
      "assert len(f['history/epoch']) == 3 and np.isnan(f['history/val_loss'][0])\n"
      "assert f['state'].attrs['seed'] == 2**64 - 2\n"
      "assert f['optimizer/v'].shape == (" +
      std::to_string(checkpoint.spec.parameter_count()) +
      ",)\n"
      "print('h5py ok')\n";
  const test::CommandResult result = test::run_command(std::string(AEFLOW_PYTHON) + " -c \"" +
                                                       script + "\" " + path + " " + value);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("h5py ok"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace aeflow::io
