// The training loop through run_training, in one process (Communicator::world() without MPI_Init is
// a world of one): learning, bit-for-bit reproducibility and resume (also mid-epoch, with noise and
// dropout), the run directory's checkpoints (best.h5, --checkpoint-every), learning-rate schedules,
// masking noise, --eval-every, early stopping, refusals, and every optimizer, loss and tied weights
// training without NaN. Tiny models on synthetic digits keep each test within a few seconds.
#include "aeflow/train/trainer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/data/augmentation.hpp"
#include "aeflow/data/batch.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/io/hdf5.hpp"
#include "aeflow/model/loss.hpp"
#include "aeflow/model/network.hpp"
#include "test_support.hpp"

namespace aeflow::train {
namespace {

namespace fs = std::filesystem;

// 1100 training images: 100 validation + 1000 training; 16 steps per epoch at batch 64.
constexpr uint32_t kTrainImages = 1100;
constexpr uint32_t kTestImages = 200;
constexpr int64_t kStepsPerEpoch = 16;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::make_temp_dir("trainer");
    data_ = test::write_synthetic_mnist(root_ + "/data", kTrainImages, kTestImages);
  }
  void TearDown() override {
    std::error_code ignored;
    if (!HasFailure()) fs::remove_all(root_, ignored);
  }

  // A tiny valid run: 784-32-8, relu/sigmoid, adam, 2 epochs.
  TrainConfig config(const std::string& out_name) const {
    TrainConfig c;
    c.data = data_;
    c.out = root_ + "/" + out_name;
    c.config_ini = "# test\n";
    c.spec.encoder = {784, 32, 8};
    c.spec.hidden = model::Activation::kRelu;
    c.spec.code = model::Activation::kRelu;
    c.spec.output = model::Activation::kSigmoid;
    c.optimizer.kind = model::OptimizerKind::kAdam;
    c.lr.base = 3e-3;
    c.batch_size = 64;
    c.epochs = 2;
    c.validation = 100;
    c.test_limit = kTestImages;
    c.seed = 7;
    c.keep_checkpoints = 100;
    return c;
  }

  TrainResult train(const TrainConfig& c) {
    std::ostringstream log;
    TrainResult result = run_training(c, mpi::Communicator::world(), log);
    log_ = log.str();
    return result;
  }

  // What the model saw in a training epoch: C trained 2 epochs on 200 images, then resumed for
  // a third at a learning rate of 0 (so it stays put) with C's noise and augmentation on. An
  // untrained model, whose output hardly depends on its input, could not tell inputs apart.
  struct EpochAtRest {
    double train_loss = 0;  // the third epoch's
    eval::LoadedModel model;
    data::Dataset images;            // the 200 training images
    std::vector<float> clean;        // as the model reads them, undistorted and unmasked
    std::vector<uint32_t> examples;  // their indices in the training split: 0, 1, ...
    model::Loss loss{model::LossKind::kBce};
    // The loss of the model's reconstruction of INPUT against TARGET over the 200 images.
    double loss_of(const std::vector<float>& input, const std::vector<float>& target) const {
      const size_t n = images.count, width = images.width();
      const float* output = model.network->forward(input.data(), int(n), false);
      return loss.value(loss.sum(output, target.data(), n * width), double(n) * double(width));
    }
  };
  EpochAtRest third_epoch_at_rest(TrainConfig c);

  // The test-set evaluation of the network as run_training initializes it (before any step).
  eval::Evaluation initial_evaluation(const TrainConfig& c) const {
    const model::Loss loss(c.loss);
    model::Network network(c.spec, loss.takes_logits());
    network.initialize(c.seed);
    data::Dataset test = data::load_split(c.data, data::Split::kTest);
    if (c.test_limit > 0 && size_t(c.test_limit) < test.count)
      test = test.slice(0, size_t(c.test_limit));
    return eval::evaluate(network, loss, test, mpi::Communicator::world());
  }

  // C trained to its C.steps in two legs, as a preempted run continues: --steps ends the first
  // after STOP steps (mid-epoch), --resume auto takes the second to the end. Returns the second.
  TrainResult train_in_two_legs(TrainConfig c, int64_t stop) {
    const int64_t total = c.steps;
    c.steps = stop;
    const TrainResult first = train(c);
    EXPECT_EQ(io::read_checkpoint(first.checkpoint).state.step_in_epoch, stop % kStepsPerEpoch);
    c.steps = total;
    c.resume = "auto";
    const TrainResult second = train(c);
    EXPECT_NE(log_.find("resumed " + first.checkpoint), std::string::npos) << log_;
    return second;
  }

  std::string root_, data_, log_;
};

std::vector<uint32_t> bits(const std::vector<float>& values) {
  std::vector<uint32_t> out(values.size());
  std::memcpy(out.data(), values.data(), values.size() * sizeof(float));
  return out;
}

// Parameters and optimizer state of two checkpoints are bitwise equal (names, shapes, bits),
// and so are the optimizer's step count and the loop position.
void expect_same_model_bits(const std::string& path_a, const std::string& path_b) {
  const io::CheckpointData a = io::read_checkpoint(path_a), b = io::read_checkpoint(path_b);
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    EXPECT_EQ(a.parameters[i].name, b.parameters[i].name);
    EXPECT_EQ(a.parameters[i].shape, b.parameters[i].shape);
    EXPECT_TRUE(bits(a.parameters[i].values) == bits(b.parameters[i].values))
        << a.parameters[i].name << " differs between " << path_a << " and " << path_b;
  }
  ASSERT_EQ(a.optimizer_state.size(), b.optimizer_state.size());
  ASSERT_FALSE(a.optimizer_state.empty());
  for (size_t i = 0; i < a.optimizer_state.size(); ++i) {
    EXPECT_EQ(a.optimizer_state[i].name, b.optimizer_state[i].name);
    EXPECT_TRUE(bits(a.optimizer_state[i].values) == bits(b.optimizer_state[i].values))
        << "optimizer state " << a.optimizer_state[i].name << " differs";
  }
  EXPECT_EQ(a.optimizer_step, b.optimizer_step);
  EXPECT_EQ(a.state.global_step, b.state.global_step);
  EXPECT_EQ(a.state.epoch, b.state.epoch);
  EXPECT_EQ(a.state.step_in_epoch, b.state.step_in_epoch);
}

bool same_parameters(const std::string& path_a, const std::string& path_b) {
  const io::CheckpointData a = io::read_checkpoint(path_a), b = io::read_checkpoint(path_b);
  if (a.parameters.size() != b.parameters.size()) return false;
  for (size_t i = 0; i < a.parameters.size(); ++i)
    if (bits(a.parameters[i].values) != bits(b.parameters[i].values)) return false;
  return true;
}

std::vector<std::string> step_checkpoints(const std::string& out) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(fs::path(out) / "checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("step-") && name.ends_with(".h5")) found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

// A checkpoint of the run at `out` after `global_step` steps.
std::string checkpoint_at(const std::string& out, int64_t global_step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%09lld.h5", static_cast<long long>(global_step));
  return (fs::path(out) / "checkpoints" / name).string();
}

// --- learning -------------------------------------------------------------------------------

TEST_F(TrainerTest, TestLossFallsWellBelowStart) {
  TrainConfig c = config("run");
  c.epochs = 4;
  const eval::Evaluation start = initial_evaluation(c);
  const TrainResult result = train(c);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.epochs, 4);
  EXPECT_EQ(result.steps, 4 * kStepsPerEpoch);
  EXPECT_EQ(result.test.count, double(kTestImages));
  ASSERT_TRUE(std::isfinite(result.test.rmse));
  // Seen: rmse about 0.44 at the start (outputs near 0.5), about 0.16 after one epoch.
  EXPECT_LT(result.test.rmse, 0.6 * start.rmse) << "start rmse " << start.rmse << "\n" << log_;
  EXPECT_LT(result.test.loss, 0.4 * start.loss);
  EXPECT_NE(log_.find("test rmse"), std::string::npos) << log_;
}

// bf16 matmuls train as well as fp32: the same run ends within 2% of fp32's test RMSE
// (measured: quickstart's 25 epochs end at 0.060832 against 0.060803), and is not fp32's run.
TEST_F(TrainerTest, Bf16TrainsAsWellAsFp32) {
  TrainConfig c = config("fp32");
  c.epochs = 4;
  const TrainResult exact = train(c);
  c = config("bf16");
  c.epochs = 4;
  c.precision = model::Precision::kBf16;
  TrainResult half;
  try {
    half = train(c);
  } catch (const InputError& error) {
    GTEST_SKIP() << error.what();
  }
  ASSERT_EQ(half.exit_code, 0);
  EXPECT_NEAR(half.test.rmse, exact.test.rmse, 0.02 * exact.test.rmse);
  EXPECT_NE(half.test.rmse, exact.test.rmse);
  EXPECT_NE(log_.find("bf16 matmuls"), std::string::npos) << log_;
}

// --- reproducibility ------------------------------------------------------------------------

TEST_F(TrainerTest, TwoRunsWithSameSeedAreBitwiseEqual) {
  TrainConfig a = config("a"), b = config("b");
  a.noise = b.noise = 0.2f;
  a.spec.dropout = b.spec.dropout = 0.1f;
  const TrainResult ra = train(a), rb = train(b);
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
  EXPECT_EQ(std::bit_cast<uint64_t>(ra.test.loss), std::bit_cast<uint64_t>(rb.test.loss));
}

TEST_F(TrainerTest, DifferentSeedsDiffer) {
  TrainConfig a = config("a"), b = config("b");
  b.seed = a.seed + 1;
  const TrainResult ra = train(a), rb = train(b);
  EXPECT_FALSE(same_parameters(ra.checkpoint, rb.checkpoint));
  EXPECT_NE(ra.test.loss, rb.test.loss);
}

// --- resume ---------------------------------------------------------------------------------

// Resuming from a checkpoint the run wrote on its way (after epoch 1 of 3), in another run
// directory, ends bitwise where the uninterrupted run ended.
TEST_F(TrainerTest, ResumeFromEpochCheckpointIsBitwiseEqualToUninterruptedRun) {
  TrainConfig a = config("a");
  a.epochs = 3;
  const TrainResult ra = train(a);
  ASSERT_EQ(ra.steps, 3 * kStepsPerEpoch);
  TrainConfig b = config("b");
  b.epochs = 3;
  b.resume = checkpoint_at(a.out, kStepsPerEpoch);
  ASSERT_TRUE(fs::exists(b.resume));
  const TrainResult rb = train(b);
  EXPECT_NE(log_.find("resumed"), std::string::npos) << log_;
  EXPECT_EQ(rb.steps, ra.steps);
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
  EXPECT_EQ(std::bit_cast<uint64_t>(ra.test.loss), std::bit_cast<uint64_t>(rb.test.loss));
  // The history carries over: one row per epoch, the same rows.
  const auto ha = io::read_checkpoint(ra.checkpoint).history;
  const auto hb = io::read_checkpoint(rb.checkpoint).history;
  ASSERT_EQ(ha.size(), 3u);
  ASSERT_EQ(hb.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ha[i].step, hb[i].step);
    EXPECT_EQ(std::bit_cast<uint64_t>(ha[i].train_loss), std::bit_cast<uint64_t>(hb[i].train_loss));
    EXPECT_EQ(std::bit_cast<uint64_t>(ha[i].val_loss), std::bit_cast<uint64_t>(hb[i].val_loss));
  }
}

// Run B trains 1 epoch (a finished run), then is resumed with --resume auto and --epochs 3: it
// continues to the NEW config's epochs and ends bitwise where a 3-epoch run ends.
TEST_F(TrainerTest, ResumeIsBitwiseEqualToUninterruptedRun) {
  TrainConfig a = config("a");
  a.epochs = 3;
  const TrainResult ra = train(a);
  TrainConfig b = config("b");
  b.epochs = 1;
  const TrainResult first = train(b);
  ASSERT_EQ(first.steps, kStepsPerEpoch);
  b.epochs = 3;
  b.resume = "auto";
  const TrainResult rb = train(b);
  EXPECT_EQ(rb.steps, ra.steps) << log_;
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
}

// Stopped mid-epoch by --steps (1.5 epochs), resumed with more --steps (3 epochs' worth).
TEST_F(TrainerTest, ResumeMidEpochIsBitwiseEqualToUninterruptedRun) {
  TrainConfig a = config("a");
  a.steps = 3 * kStepsPerEpoch;
  const TrainResult ra = train(a);
  ASSERT_EQ(ra.steps, 3 * kStepsPerEpoch);
  TrainConfig b = config("b");
  b.steps = kStepsPerEpoch + kStepsPerEpoch / 2;
  const TrainResult first = train(b);
  ASSERT_EQ(first.steps, b.steps);
  EXPECT_EQ(io::read_checkpoint(first.checkpoint).state.step_in_epoch, kStepsPerEpoch / 2);
  b.steps = 3 * kStepsPerEpoch;
  b.resume = first.checkpoint;
  const TrainResult rb = train(b);
  EXPECT_EQ(rb.steps, ra.steps) << log_;
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
}

// Mid-epoch again, with masking noise, dropout and augmentation: their streams are keyed by
// (seed, epoch, example) and (seed, step, row), so resume regenerates exactly the same masks
// and distortions.
TEST_F(TrainerTest, ResumeWithNoiseDropoutAndAugmentationIsBitwiseEqualToUninterruptedRun) {
  TrainConfig a = config("a");
  a.noise = 0.25f;
  a.spec.dropout = 0.2f;
  a.augmentation = {10.0f, 0.1f, 1.5f};
  a.steps = 2 * kStepsPerEpoch + 5;
  const TrainResult ra = train(a);
  TrainConfig b = a;
  b.out = root_ + "/b";
  const TrainResult rb = train_in_two_legs(b, kStepsPerEpoch + 3);
  EXPECT_EQ(rb.steps, ra.steps) << log_;
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
  EXPECT_EQ(std::bit_cast<uint64_t>(ra.test.loss), std::bit_cast<uint64_t>(rb.test.loss));
  // The training animation too: a frame per epoch (the partial one where the first leg
  // stopped replaced by its whole), the same pixels.
  const io::Snapshots frames = io::read_checkpoint(ra.checkpoint).snapshots;
  EXPECT_EQ(frames.epoch, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(io::read_checkpoint(rb.checkpoint).snapshots, frames);
  // Noise, dropout and augmentation are each really on: the same run without any one of them
  // ends elsewhere (so the resume above regenerated every stream, not one and a no-op).
  TrainConfig no_noise = a;
  no_noise.out = root_ + "/no_noise";
  no_noise.noise = 0;
  EXPECT_FALSE(same_parameters(ra.checkpoint, train(no_noise).checkpoint));
  TrainConfig no_dropout = a;
  no_dropout.out = root_ + "/no_dropout";
  no_dropout.spec.dropout = 0;
  EXPECT_FALSE(same_parameters(ra.checkpoint, train(no_dropout).checkpoint));
  TrainConfig no_augmentation = a;
  no_augmentation.out = root_ + "/no_augmentation";
  no_augmentation.augmentation = {};
  EXPECT_FALSE(same_parameters(ra.checkpoint, train(no_augmentation).checkpoint));
}

// A decoder that does not mirror the encoder (784-32-8 then 8-16-24-784), with dropout on its
// hidden layers: it learns, resumes mid-epoch to the bits of an uninterrupted run, and a run
// that asks for another decoder is refused the checkpoint.
TEST_F(TrainerTest, AnAsymmetricDecoderLearnsAndResumesBitwise) {
  TrainConfig a = config("a");
  a.spec.decoder = std::vector<int>{16, 24};
  a.spec.dropout = 0.1f;
  a.steps = 2 * kStepsPerEpoch + 5;
  const eval::Evaluation start = initial_evaluation(a);
  const TrainResult ra = train(a);
  EXPECT_NE(log_.find("784-32-8-16-24-784 relu/relu/sigmoid"), std::string::npos) << log_;
  EXPECT_LT(ra.test.loss, 0.8 * start.loss) << "start " << start.loss << "\n" << log_;
  EXPECT_EQ(io::read_checkpoint(ra.checkpoint).spec.decoder, a.spec.decoder);
  TrainConfig b = a;
  b.out = root_ + "/b";
  const TrainResult rb = train_in_two_legs(b, kStepsPerEpoch + 3);
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
  EXPECT_EQ(std::bit_cast<uint64_t>(ra.test.loss), std::bit_cast<uint64_t>(rb.test.loss));

  TrainConfig mirrored = a;
  mirrored.out = root_ + "/mirrored";
  mirrored.spec.decoder.reset();
  mirrored.resume = ra.checkpoint;
  try {
    train(mirrored);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()),
              ra.checkpoint +
                  ": checkpoint is a 784-32-8-16-24-784 relu/relu/sigmoid dropout 0.1, " +
                  std::to_string(a.spec.parameter_count()) +
                  " parameters model, but this run asks for 784-32-8-32-784 relu/relu/sigmoid "
                  "dropout 0.1, " +
                  std::to_string(mirrored.spec.parameter_count()) +
                  " parameters; resume it with the same --encoder, --decoder, activations and "
                  "--tied");
  }
}

// The training animation's images: the first of each label in the validation split (rows of
// the training file), or in the training images without one; a frame per epoch that is the
// network's reconstruction, in the checkpoint and in metrics.h5.
TEST_F(TrainerTest, EveryEpochKeepsAFrameOfTheFirstImageOfEachLabel) {
  TrainConfig c = config("run");
  c.epochs = 2;
  const TrainResult result = train(c);
  const io::CheckpointData checkpoint = io::read_checkpoint(result.checkpoint);
  const io::Snapshots& s = checkpoint.snapshots;
  const data::Dataset all = data::load_split(data_, data::Split::kTrain);
  ASSERT_EQ(s.count(), 10u);
  EXPECT_EQ(s.split, "validation");
  for (size_t i = 0; i < s.count(); ++i) {
    EXPECT_EQ(s.label[i], i);
    EXPECT_EQ(all.labels[size_t(s.index[i])], i);
    EXPECT_LT(s.index[i], c.validation);
    for (int64_t j = 0; j < s.index[i]; ++j) EXPECT_NE(all.labels[size_t(j)], i);  // the first
    EXPECT_TRUE(std::equal(s.input.begin() + long(i * 784), s.input.begin() + long((i + 1) * 784),
                           all.image(size_t(s.index[i]))));
  }
  EXPECT_EQ(s.epoch, (std::vector<int64_t>{1, 2}));
  // The last frame is the final model's reconstruction (to a pixel level of rounding).
  eval::LoadedModel model = eval::load_model(result.checkpoint);
  std::vector<float> input(s.input.size()), output(s.input.size());
  data::scale_pixels(s.input.data(), input.size(), input.data());
  const float* y = model.network->forward(input.data(), int(s.count()), false);
  std::copy(y, y + output.size(), output.begin());
  model.network->reconstruct(output.data(), output.size());
  for (size_t k = 0; k < output.size(); ++k)
    ASSERT_NEAR(s.frames[s.frames.size() - output.size() + k], output[k] * 255.0f, 0.51f) << k;
  const io::h5::File metrics = io::h5::File::open(c.out + "/metrics.h5");
  EXPECT_EQ(metrics.read_dataset<uint8_t>("history/snapshots/frames"), s.frames);

  TrainConfig none = config("none");
  none.validation = 0;
  none.epochs = 1;
  const io::Snapshots t = io::read_checkpoint(train(none).checkpoint).snapshots;
  EXPECT_EQ(t.split, "train");
  ASSERT_EQ(t.count(), 10u);
  EXPECT_EQ(all.labels[size_t(t.index[0])], 0);
}

// --- stop requests ----------------------------------------------------------------------------

// A run owns the stop request it is given: one made before the run starts stops it after its
// first step with a checkpoint of that step and kExitPreempted; reset, the same request lets the
// next run in this process (a sweep runs many) resume and finish. The process's own request
// (the signals') is not touched.
TEST_F(TrainerTest, StopRequestStopsItsRunAndIsResetForTheNext) {
  StopRequest stop;
  stop.request(SIGTERM);
  TrainConfig c = config("run");
  std::ostringstream log;
  const TrainResult stopped = run_training(c, mpi::Communicator::world(), log, stop);
  EXPECT_EQ(stopped.exit_code, kExitPreempted) << log.str();
  EXPECT_EQ(stopped.stop_reason, StopReason::kStopRequest);
  EXPECT_EQ(stopped.steps, 1);
  EXPECT_EQ(stopped.checkpoint, checkpoint_at(c.out, 1));
  EXPECT_NE(log.str().find("stopped by signal 15 after step 1;"), std::string::npos) << log.str();
  EXPECT_FALSE(signal_stop_request().requested());

  stop.reset();
  EXPECT_FALSE(stop.requested());
  c.resume = "auto";
  std::ostringstream again;
  const TrainResult finished = run_training(c, mpi::Communicator::world(), again, stop);
  EXPECT_EQ(finished.exit_code, 0) << again.str();
  EXPECT_EQ(finished.stop_reason, StopReason::kDone);
  EXPECT_EQ(finished.steps, 2 * kStepsPerEpoch);
  // ... bit for bit the run no request stopped.
  const TrainResult whole = train(config("whole"));
  expect_same_model_bits(whole.checkpoint, finished.checkpoint);
}

// A run that --steps ends mid-epoch records that partial epoch, and a resume with more steps
// continues the same epoch: its row then covers the whole epoch (the same bits as the run that
// never stopped), and the partial one did not count toward early stopping's patience.
TEST_F(TrainerTest, StepsEndingMidEpochThenMoreStepsGiveTheUninterruptedHistory) {
  TrainConfig whole = config("whole");
  whole.steps = 3 * kStepsPerEpoch;
  whole.monitor = Monitor::kTrainLoss;
  whole.patience = 100;
  const TrainResult all = train(whole);
  TrainConfig part = whole;
  part.out = root_ + "/part";
  part.steps = kStepsPerEpoch + 3;
  train(part);
  const auto stopped = io::read_checkpoint(checkpoint_at(part.out, part.steps));
  ASSERT_EQ(stopped.history.size(), 2u);  // epoch 1, and epoch 2 so far
  EXPECT_EQ(stopped.history[1].step, kStepsPerEpoch + 3);
  part.steps = whole.steps;
  part.resume = "auto";
  const TrainResult resumed = train(part);
  const auto a = io::read_checkpoint(all.checkpoint), b = io::read_checkpoint(resumed.checkpoint);
  // b: epoch 1, the partial epoch 2 at step 19, epoch 2, epoch 3.
  ASSERT_EQ(a.history.size(), 3u);
  ASSERT_EQ(b.history.size(), 4u);
  for (size_t row : {0u, 1u, 2u}) {
    const io::HistoryRow& x = a.history[row];
    const io::HistoryRow& y = b.history[row == 0 ? 0 : row + 1];
    EXPECT_EQ(x.step, y.step) << row;
    EXPECT_EQ(std::bit_cast<uint64_t>(x.train_loss), std::bit_cast<uint64_t>(y.train_loss))
        << "epoch " << x.epoch << ": " << x.train_loss << " vs " << y.train_loss;
  }
  EXPECT_EQ(a.state.bad_epochs, b.state.bad_epochs);
  expect_same_model_bits(all.checkpoint, resumed.checkpoint);
}

// --- the run directory ----------------------------------------------------------------------

// The history's train loss is the epoch's loss over all its images: for RMSE the root of the
// epoch's mean square error, not a mean of the batches' roots (smaller, by Jensen). With a
// learning rate of 0 the model never moves, so it must equal the initial model's RMSE over the
// training images.
TEST_F(TrainerTest, EpochTrainRmseIsTheRootOfTheEpochsMeanSquare) {
  TrainConfig c = config("run");
  c.loss = model::LossKind::kRmse;
  c.lr.base = 0;
  c.epochs = 1;
  c.batch_size = 1;  // (a batch an image: the mean of roots strays furthest from the root)
  c.train_limit = 200;
  const TrainResult result = train(c);
  const auto history = io::read_checkpoint(result.checkpoint).history;
  ASSERT_EQ(history.size(), 1u);
  const model::Loss loss(c.loss);
  model::Network network(c.spec, loss.takes_logits());
  network.initialize(c.seed);
  const data::Dataset all = data::load_split(c.data, data::Split::kTrain);
  const data::Dataset training =
      all.slice(size_t(c.validation), size_t(c.validation + c.train_limit));
  const eval::Evaluation expected =
      eval::evaluate(network, loss, training, mpi::Communicator::world());
  EXPECT_NEAR(history[0].train_loss, expected.loss, 1e-7 * expected.loss);
}

TEST_F(TrainerTest, HistoryHasOneRowPerEpoch) {
  TrainConfig c = config("run");
  c.epochs = 3;
  const TrainResult result = train(c);
  const io::CheckpointData checkpoint = io::read_checkpoint(result.checkpoint);
  ASSERT_EQ(checkpoint.history.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(checkpoint.history[i].epoch, int64_t(i + 1));
    EXPECT_EQ(checkpoint.history[i].step, int64_t(i + 1) * kStepsPerEpoch);
    EXPECT_TRUE(std::isfinite(checkpoint.history[i].train_loss));
    EXPECT_TRUE(std::isfinite(checkpoint.history[i].val_loss));
  }
  EXPECT_LT(checkpoint.history[2].train_loss, checkpoint.history[0].train_loss);
  EXPECT_TRUE(checkpoint.state.finished);
  EXPECT_EQ(checkpoint.state.epoch, 3);
  EXPECT_EQ(checkpoint.state.step_in_epoch, 0);
  EXPECT_EQ(checkpoint.config_ini, c.config_ini);
}

// best.h5 is the epoch of the lowest validation loss, not the latest: on 64 training images
// (one step an epoch) the validation loss falls to a low point and then rises (seen: lowest
// at epoch 16 of 20), so the two differ.
TEST_F(TrainerTest, BestCheckpointIsWrittenWithValidation) {
  TrainConfig c = config("run");
  c.train_limit = 64;
  c.epochs = 20;
  const TrainResult result = train(c);
  const auto history = io::read_checkpoint(result.checkpoint).history;
  ASSERT_EQ(history.size(), 20u);
  const auto lowest =
      std::min_element(history.begin(), history.end(),
                       [](const auto& a, const auto& b) { return a.val_loss < b.val_loss; });
  ASSERT_LT(lowest->epoch, history.back().epoch) << "the validation loss never rose: " << log_;
  const std::string best = c.out + "/checkpoints/best.h5";
  ASSERT_TRUE(fs::exists(best));
  const io::CheckpointData checkpoint = io::read_checkpoint(best);
  ASSERT_FALSE(checkpoint.history.empty());
  EXPECT_EQ(checkpoint.history.back().epoch, lowest->epoch);
  EXPECT_EQ(checkpoint.history.back().val_loss, lowest->val_loss);
  EXPECT_EQ(checkpoint.state.global_step, lowest->step);
  EXPECT_TRUE(same_parameters(best, checkpoint_at(c.out, lowest->step)));
  EXPECT_FALSE(same_parameters(best, result.checkpoint));

  TrainConfig none = config("none");
  none.validation = 0;
  train(none);
  EXPECT_FALSE(fs::exists(none.out + "/checkpoints/best.h5"));
}

// The lowest validation loss so far travels in the checkpoint: a resumed run that only does
// worse (a learning rate 100 times too high) leaves best.h5 at the epoch before the resume.
TEST_F(TrainerTest, BestCheckpointSurvivesAResumeThatDoesWorse) {
  TrainConfig c = config("run");
  c.epochs = 2;
  train(c);
  const std::string best = c.out + "/checkpoints/best.h5";
  ASSERT_TRUE(same_parameters(best, checkpoint_at(c.out, 2 * kStepsPerEpoch)));
  c.resume = "auto";
  c.epochs = 3;
  c.lr.base *= 100;
  const TrainResult worse = train(c);
  const auto history = io::read_checkpoint(worse.checkpoint).history;
  ASSERT_EQ(history.size(), 3u);
  ASSERT_GT(history[2].val_loss, history[1].val_loss) << log_;  // (seen: 0.095 against 0.025)
  EXPECT_TRUE(same_parameters(best, checkpoint_at(c.out, 2 * kStepsPerEpoch)));
  EXPECT_EQ(io::read_checkpoint(best).history.size(), 2u);
}

TEST_F(TrainerTest, LatestPointsAtNewestStepCheckpoint) {
  TrainConfig c = config("run");
  c.epochs = 3;
  const TrainResult result = train(c);
  const fs::path latest = fs::path(c.out) / "checkpoints" / "latest.h5";
  ASSERT_TRUE(fs::is_symlink(latest));
  const auto all = step_checkpoints(c.out);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(fs::read_symlink(latest).filename().string(), all.back());
  EXPECT_EQ(fs::path(result.checkpoint).filename().string(), all.back());
  EXPECT_EQ(fs::canonical(latest), fs::canonical(result.checkpoint));
}

TEST_F(TrainerTest, KeepCheckpointsKeepsTheLastK) {
  TrainConfig c = config("run");
  c.epochs = 4;
  c.keep_checkpoints = 2;
  train(c);
  const auto all = step_checkpoints(c.out);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(fs::path(checkpoint_at(c.out, 3 * kStepsPerEpoch)).filename().string(), all[0]);
  EXPECT_EQ(fs::path(checkpoint_at(c.out, 4 * kStepsPerEpoch)).filename().string(), all[1]);
}

// A run resumed from an older checkpoint branches: its checkpoints (the first one included)
// survive retention, the newer files of the run it left are not deleted, and --resume auto
// follows latest.h5 to the branch rather than to the highest step number on disk.
TEST_F(TrainerTest, BranchFromAnOlderCheckpointKeepsBothAndAutoFollowsTheBranch) {
  TrainConfig c = config("run");
  c.epochs = 1;
  train(c);
  const std::string early = root_ + "/early.h5";
  fs::copy_file(checkpoint_at(c.out, kStepsPerEpoch), early);
  c.resume = "auto";
  c.epochs = 4;
  c.keep_checkpoints = 2;
  train(c);
  ASSERT_EQ(step_checkpoints(c.out).size(), 2u);  // steps 48 and 64

  c.resume = early;  // back to step 16: the branch writes step 32
  c.epochs = 2;
  const TrainResult branch = train(c);
  EXPECT_EQ(branch.checkpoint, checkpoint_at(c.out, 2 * kStepsPerEpoch));
  EXPECT_TRUE(fs::exists(branch.checkpoint));
  EXPECT_TRUE(fs::exists(checkpoint_at(c.out, 3 * kStepsPerEpoch)));
  EXPECT_TRUE(fs::exists(checkpoint_at(c.out, 4 * kStepsPerEpoch)));
  EXPECT_EQ(fs::canonical(fs::path(c.out) / "checkpoints" / "latest.h5"),
            fs::canonical(branch.checkpoint));

  c.resume = "auto";
  c.epochs = 3;
  train(c);
  EXPECT_NE(log_.find("resumed " + branch.checkpoint), std::string::npos) << log_;
}

// With the branch's newest checkpoint damaged, --resume auto falls back within the branch (to
// older steps) before it would take the newer files of the run the branch left.
TEST_F(TrainerTest, AutoResumeFallsBackWithinTheBranch) {
  TrainConfig c = config("run");
  c.epochs = 4;
  train(c);  // steps 16, 32, 48, 64
  const std::string early = root_ + "/early.h5";
  fs::copy_file(checkpoint_at(c.out, kStepsPerEpoch), early);
  c.resume = early;
  c.epochs = 2;
  train(c);  // the branch rewrites step 32; latest.h5 points at it
  const std::string branch = checkpoint_at(c.out, 2 * kStepsPerEpoch);
  fs::resize_file(branch, fs::file_size(branch) / 2);
  c.resume = "auto";
  c.epochs = 3;
  train(c);
  EXPECT_NE(log_.find("skipping " + branch), std::string::npos) << log_;
  EXPECT_NE(log_.find("resumed " + checkpoint_at(c.out, kStepsPerEpoch)), std::string::npos)
      << log_;
}

// --resume auto skips a checkpoint it cannot read (cut short) and takes the one before it.
TEST_F(TrainerTest, AutoResumeSkipsADamagedCheckpoint) {
  TrainConfig c = config("run");
  c.epochs = 2;
  train(c);
  const std::string newest = checkpoint_at(c.out, 2 * kStepsPerEpoch);
  fs::resize_file(newest, fs::file_size(newest) / 2);
  c.resume = "auto";
  const TrainResult resumed = train(c);
  EXPECT_NE(log_.find("skipping " + newest), std::string::npos) << log_;
  EXPECT_NE(log_.find("resumed " + checkpoint_at(c.out, kStepsPerEpoch)), std::string::npos)
      << log_;
  EXPECT_EQ(resumed.steps, 2 * kStepsPerEpoch);
}

// When no checkpoint in the run directory reads, --resume auto stops with the way out instead of
// starting over (which would overwrite best.h5, still good, and the metrics).
TEST_F(TrainerTest, AutoResumeRefusesToStartOverWhenNoCheckpointReads) {
  TrainConfig c = config("run");
  c.epochs = 2;
  train(c);
  for (const auto& name : step_checkpoints(c.out)) {
    const fs::path path = fs::path(c.out) / "checkpoints" / name;
    fs::resize_file(path, fs::file_size(path) / 2);
  }
  const fs::path best = fs::path(c.out) / "checkpoints" / "best.h5";
  ASSERT_TRUE(fs::exists(best));
  const auto best_time = fs::last_write_time(best);
  c.resume = "auto";
  test::expect_error<InputError>([&] { train(c); }, {"--force", "--resume PATH"});
  EXPECT_EQ(fs::last_write_time(best), best_time);
  EXPECT_NO_THROW(io::read_checkpoint(best.string()));
}

// A run stopped between its first best.h5 and its first step checkpoint (a kill -9 there, as a
// sweep's test found) has only best.h5: --resume auto goes on from it, to the bits of a run
// that was never stopped.
TEST_F(TrainerTest, AutoResumeContinuesFromBestH5WhenThatIsAllThereIs) {
  TrainConfig whole = config("whole");
  whole.epochs = 3;
  train(whole);
  TrainConfig c = config("run");
  c.epochs = 1;
  train(c);
  for (const auto& name : step_checkpoints(c.out))
    fs::remove(fs::path(c.out) / "checkpoints" / name);
  fs::remove(fs::path(c.out) / "checkpoints" / "latest.h5");
  c.epochs = 3;
  // Without --resume, best.h5 alone is a checkpoint not to start over on.
  test::expect_error<InputError>([&] { train(c); }, {"already holds checkpoints", "--force"});
  c.resume = "auto";
  const TrainResult resumed = train(c);
  EXPECT_NE(log_.find(": resuming best.h5"), std::string::npos) << log_;
  EXPECT_EQ(resumed.steps, 3 * kStepsPerEpoch);
  const auto a = io::read_checkpoint(fs::path(whole.out) / "checkpoints" / "latest.h5");
  const auto b = io::read_checkpoint(fs::path(c.out) / "checkpoints" / "latest.h5");
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (size_t i = 0; i < a.parameters.size(); ++i)
    EXPECT_EQ(a.parameters[i].values, b.parameters[i].values) << a.parameters[i].name;
  // A damaged best.h5 alone is refused, not trained over.
  TrainConfig d = config("damaged");
  d.epochs = 1;
  train(d);
  for (const auto& name : step_checkpoints(d.out))
    fs::remove(fs::path(d.out) / "checkpoints" / name);
  const fs::path best = fs::path(d.out) / "checkpoints" / "best.h5";
  fs::resize_file(best, fs::file_size(best) / 2);
  d.resume = "auto";
  test::expect_error<InputError>([&] { train(d); }, {"best.h5"});
}

// A checkpoint that reads fine but belongs to another run is an error for --resume auto too:
// it must not be taken for damage and "skipped" into a new run over the old one.
TEST_F(TrainerTest, AutoResumeRefusesAnotherLossOrBatchInsteadOfStartingOver) {
  TrainConfig c = config("run");
  c.epochs = 1;
  c.config_ini = "batch-size = 64\n";
  train(c);
  const auto before = step_checkpoints(c.out);
  TrainConfig other_loss = c;
  other_loss.resume = "auto";
  other_loss.loss = model::LossKind::kBce;
  EXPECT_THROW(train(other_loss), InputError);
  TrainConfig other_batch = c;
  other_batch.resume = "auto";
  other_batch.batch_size = 32;
  other_batch.config_ini = "batch-size = 32\n";
  test::expect_error<InputError>([&] { train(other_batch); }, {"--batch-size 64, not 32"});
  // The checkpoint's own attributes decide, not the config text (here it names none).
  for (const auto& [change, message] :
       {std::pair{+[](TrainConfig& t) { t.validation = 50; }, "--validation 100, not 50"},
        std::pair{+[](TrainConfig& t) { t.train_limit = 500; }, "--train-limit 0, not 500"}}) {
    TrainConfig other = c;
    other.resume = "auto";
    other.config_ini = "# no settings\n";
    change(other);
    test::expect_error<InputError>([&] { train(other); }, {message});
  }
  EXPECT_EQ(step_checkpoints(c.out), before);
}

// --- learning-rate schedules ----------------------------------------------------------------

// The learning rate the history records for the epoch that ended at STEP (its last step's).
double history_lr(const std::vector<io::HistoryRow>& history, int64_t step) {
  for (const auto& row : history)
    if (row.step == step) return row.learning_rate;
  ADD_FAILURE() << "no history row at step " << step;
  return NAN;
}

class TrainerScheduleTest : public TrainerTest {
 protected:
  // C's schedule trained for 3 epochs' steps in one go, and again stopped 3 steps into epoch 2
  // (by --steps) and resumed:
  // both end bit-for-bit equal, with the same learning rates in their histories. And the
  // schedule is really applied: a constant rate ends elsewhere. The first leg's --steps is the
  // total a cosine is drawn over, so before step 19 the schedule must not depend on it (cosine
  // needs a warm-up over them). Returns the uninterrupted run's history.
  std::vector<io::HistoryRow> expect_mid_epoch_resume_is_bitwise(TrainConfig c) {
    c.out = root_ + "/whole";
    c.steps = 3 * kStepsPerEpoch;
    const TrainResult whole = train(c);
    TrainConfig b = c;
    b.out = root_ + "/resumed";
    const TrainResult resumed = train_in_two_legs(b, kStepsPerEpoch + 3);
    EXPECT_EQ(resumed.steps, whole.steps);
    expect_same_model_bits(whole.checkpoint, resumed.checkpoint);
    const auto history = io::read_checkpoint(whole.checkpoint).history;
    const auto resumed_history = io::read_checkpoint(resumed.checkpoint).history;
    EXPECT_EQ(history.size(), 3u);
    for (const auto& row : history)
      EXPECT_EQ(std::bit_cast<uint64_t>(row.learning_rate),
                std::bit_cast<uint64_t>(history_lr(resumed_history, row.step)))
          << "step " << row.step;

    TrainConfig constant = c;
    constant.out = root_ + "/constant";
    constant.lr.kind = LrScheduleKind::kConstant;
    constant.lr.warmup_steps = 0;
    constant.lr_decay_epochs = 0;
    EXPECT_FALSE(same_parameters(whole.checkpoint, train(constant).checkpoint));
    return history;
  }
};

// Step decay by --lr-decay-epochs 1: halved at every epoch boundary (the resume lands between
// the first and second halving).
TEST_F(TrainerScheduleTest, StepDecayResumesMidEpochBitwiseAndHalvesEachEpoch) {
  TrainConfig c = config("unused");
  c.lr.kind = LrScheduleKind::kStep;
  c.lr.gamma = 0.5;
  c.lr_decay_epochs = 1;
  const double base = c.lr.base;
  const auto history = expect_mid_epoch_resume_is_bitwise(c);
  EXPECT_DOUBLE_EQ(history_lr(history, 16), base);  // (the rate of steps 0..15)
  EXPECT_DOUBLE_EQ(history_lr(history, 32), base * 0.5);
  EXPECT_DOUBLE_EQ(history_lr(history, 48), base * 0.25);
}

// A linear warm-up over 40 steps (base * (step + 1) / 40), then constant; the resume lands
// inside the warm-up.
TEST_F(TrainerScheduleTest, WarmupResumesMidEpochBitwiseAndRampsLinearly) {
  TrainConfig c = config("unused");
  c.lr.warmup_steps = 40;
  const double base = c.lr.base;
  const auto history = expect_mid_epoch_resume_is_bitwise(c);
  EXPECT_DOUBLE_EQ(history_lr(history, 16), base * 16 / 40);
  EXPECT_DOUBLE_EQ(history_lr(history, 32), base * 32 / 40);
  EXPECT_DOUBLE_EQ(history_lr(history, 48), base);
}

// Cosine from base to min_lr over the run's 48 steps. The rate depends on the run's total, so a
// run stopped by --steps draws another curve; resumed mid-epoch (after a warm-up, see the
// helper) and resumed mid-decay from the uninterrupted run's epoch-1 checkpoint, it is the same
// run bit for bit.
TEST_F(TrainerScheduleTest, CosineResumesBitwiseAndFollowsTheCosine) {
  const double kPi = std::acos(-1.0);
  TrainConfig c = config("unused");
  c.lr.kind = LrScheduleKind::kCosine;
  c.lr.min_lr = 3e-4;
  const double base = c.lr.base, min = c.lr.min_lr;
  auto cosine = [&](double done, double span) {
    return min + 0.5 * (base - min) * (1 + std::cos(kPi * done / span));
  };

  TrainConfig warm = c;
  warm.lr.warmup_steps = 20;
  const auto history = expect_mid_epoch_resume_is_bitwise(warm);
  EXPECT_DOUBLE_EQ(history_lr(history, 16), base * 16 / 20);
  EXPECT_DOUBLE_EQ(history_lr(history, 32), cosine(31 - 20, 48 - 20));
  EXPECT_DOUBLE_EQ(history_lr(history, 48), cosine(47 - 20, 48 - 20));

  TrainConfig a = c;
  a.out = root_ + "/a";
  a.epochs = 3;
  const TrainResult ra = train(a);
  const auto ha = io::read_checkpoint(ra.checkpoint).history;
  EXPECT_DOUBLE_EQ(history_lr(ha, 16), cosine(15, 48));
  EXPECT_DOUBLE_EQ(history_lr(ha, 32), cosine(31, 48));
  EXPECT_DOUBLE_EQ(history_lr(ha, 48), cosine(47, 48));
  TrainConfig b = c;
  b.out = root_ + "/b";
  b.epochs = 3;
  b.resume = checkpoint_at(a.out, kStepsPerEpoch);
  const TrainResult rb = train(b);
  expect_same_model_bits(ra.checkpoint, rb.checkpoint);
  const auto hb = io::read_checkpoint(rb.checkpoint).history;
  for (int64_t step : {32, 48})
    EXPECT_EQ(std::bit_cast<uint64_t>(history_lr(ha, step)),
              std::bit_cast<uint64_t>(history_lr(hb, step)));
}

// --- masking noise and augmentation ---------------------------------------------------------

TrainerTest::EpochAtRest TrainerTest::third_epoch_at_rest(TrainConfig c) {
  TrainConfig first = c;
  first.train_limit = c.train_limit = 200;
  first.noise = 0;
  first.augmentation = {};
  train(first);
  c.resume = "auto";
  c.epochs = 3;
  c.lr.base = 0;
  const TrainResult result = train(c);
  const auto history = io::read_checkpoint(result.checkpoint).history;
  EpochAtRest epoch;
  EXPECT_EQ(history.size(), 3u);
  if (!history.empty()) epoch.train_loss = history.back().train_loss;
  const std::string trained = checkpoint_at(c.out, 2 * 4);   // (200 images: 4 steps an epoch)
  EXPECT_TRUE(same_parameters(trained, result.checkpoint));  // (the lr was 0)
  epoch.model = eval::load_model(trained);
  epoch.loss = model::Loss(c.loss);
  epoch.images = data::load_split(c.data, data::Split::kTrain)
                     .slice(size_t(c.validation), size_t(c.validation + 200));
  epoch.clean.resize(epoch.images.count * epoch.images.width());
  data::fill_range(epoch.images, 0, epoch.images.count, epoch.clean.data());
  epoch.examples.resize(epoch.images.count);
  std::iota(epoch.examples.begin(), epoch.examples.end(), 0u);
  return epoch;
}

// A denoising autoencoder learns to reconstruct the CLEAN image from the masked one: the epoch's
// train loss must be the model's loss on the masked training images against the clean ones, not
// against the masked images, nor on clean inputs (both checked to be far off, so the comparison
// can tell).
TEST_F(TrainerTest, MaskingNoiseCorruptsTheInputAndNotTheTarget) {
  TrainConfig c = config("run");
  c.noise = 0.5f;
  const EpochAtRest epoch = third_epoch_at_rest(c);
  const size_t n = epoch.images.count, width = epoch.images.width();
  std::vector<float> noisy = epoch.clean;
  data::apply_masking_noise(noisy.data(), width, epoch.examples.data(), n, c.noise, c.seed, 2);
  const double expected = epoch.loss_of(noisy, epoch.clean);
  const double tolerance = 1e-6 * expected;  // (the loop sums batch by batch)
  EXPECT_NEAR(epoch.train_loss, expected, tolerance);
  EXPECT_GT(std::abs(epoch.loss_of(noisy, noisy) - expected), 100 * tolerance);
  EXPECT_GT(std::abs(epoch.loss_of(epoch.clean, epoch.clean) - expected), 100 * tolerance);
}

// Augmentation distorts both: with strong distortions on (and the noise after them), the epoch's
// train loss must be the model's loss on the masked, distorted images against the distorted
// ones; not against the undistorted images, nor with no distortion at all (both far off).
TEST_F(TrainerTest, AugmentationDistortsTheInputAndTheTarget) {
  TrainConfig c = config("run");
  c.noise = 0.2f;
  c.augmentation = {20.0f, 0.2f, 3.0f};
  const EpochAtRest epoch = third_epoch_at_rest(c);
  const size_t n = epoch.images.count, width = epoch.images.width();
  std::vector<float> distorted(n * width);
  data::apply_augmentation(epoch.clean.data(), distorted.data(), epoch.images.rows,
                           epoch.images.cols, epoch.examples.data(), n, c.augmentation, c.seed, 2);
  const auto masked = [&](std::vector<float> images) {
    data::apply_masking_noise(images.data(), width, epoch.examples.data(), n, c.noise, c.seed, 2);
    return images;
  };
  const double expected = epoch.loss_of(masked(distorted), distorted);
  const double tolerance = 1e-6 * expected;  // (the loop sums batch by batch)
  EXPECT_NEAR(epoch.train_loss, expected, tolerance);
  EXPECT_GT(std::abs(epoch.loss_of(masked(distorted), epoch.clean) - expected), 100 * tolerance);
  EXPECT_GT(std::abs(epoch.loss_of(masked(epoch.clean), epoch.clean) - expected), 100 * tolerance);
}

// --- evaluation and checkpoint cadence ------------------------------------------------------

// The steps of the "  step N  val mse X" lines in LOG, and their X as printed.
std::vector<std::pair<int64_t, std::string>> eval_lines(const std::string& log) {
  std::vector<std::pair<int64_t, std::string>> found;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    long long step = 0;
    char value[64];
    if (std::sscanf(line.c_str(), "  step %lld  val mse %63s", &step, value) == 2)
      found.emplace_back(step, value);
  }
  return found;
}

// --eval-every 4 over 4 epochs of 6 steps: a validation line at every 4th step of the run
// (counted over the run, not within the epoch: that would give 4, 10, 16, 22), each the
// validation loss of the model at that step (where an epoch ends too, the history's).
TEST_F(TrainerTest, EvalEveryReportsTheValidationLossEveryNSteps) {
  TrainConfig c = config("run");
  c.train_limit = 6 * 64;
  c.epochs = 4;
  c.eval_every = 4;
  const TrainResult result = train(c);
  const auto lines = eval_lines(log_);
  std::vector<int64_t> steps;
  for (const auto& line : lines) steps.push_back(line.first);
  EXPECT_EQ(steps, (std::vector<int64_t>{4, 8, 12, 16, 20, 24})) << log_;
  const auto history = io::read_checkpoint(result.checkpoint).history;
  ASSERT_EQ(history.size(), 4u);
  for (const auto& [step, value] : lines) {
    for (const auto& row : history) {
      if (row.step != step) continue;
      std::ostringstream expected;
      expected << std::setprecision(5) << row.val_loss;
      EXPECT_EQ(value, expected.str()) << "step " << step;
    }
  }

  TrainConfig off = config("off");
  off.train_limit = 6 * 64;
  train(off);
  EXPECT_TRUE(eval_lines(log_).empty()) << log_;
}

// --checkpoint-every 2 over 5 epochs: checkpoints after epochs 2 and 4, and after the last.
TEST_F(TrainerTest, CheckpointEveryWritesEveryNEpochsAndTheLast) {
  TrainConfig c = config("run");
  c.train_limit = 6 * 64;
  c.epochs = 5;
  c.checkpoint_every = 2;
  const TrainResult result = train(c);
  std::vector<std::string> expected;
  for (int64_t step : {12, 24, 30})
    expected.push_back(fs::path(checkpoint_at(c.out, step)).filename());
  EXPECT_EQ(step_checkpoints(c.out), expected);
  EXPECT_EQ(result.checkpoint, checkpoint_at(c.out, 30));
  EXPECT_EQ(fs::canonical(fs::path(c.out) / "checkpoints" / "latest.h5"),
            fs::canonical(result.checkpoint));
  EXPECT_EQ(io::read_checkpoint(result.checkpoint).history.size(), 5u);
}

// --- early stopping -------------------------------------------------------------------------

// With a min_delta no improvement can reach, the first epoch sets the best value and each later
// one is a bad epoch: the run stops after 1 + patience epochs.
TEST_F(TrainerTest, EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement) {
  TrainConfig c = config("run");
  c.epochs = 10;
  c.monitor = Monitor::kTrainLoss;
  c.min_delta = 1e9;
  c.patience = 2;
  const TrainResult result = train(c);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stop_reason, StopReason::kEarlyStopping);
  EXPECT_EQ(result.epochs, 3);
  const io::CheckpointData checkpoint = io::read_checkpoint(result.checkpoint);
  EXPECT_EQ(checkpoint.history.size(), 3u);
  EXPECT_TRUE(checkpoint.state.finished);
  EXPECT_EQ(checkpoint.state.bad_epochs, 2);
  EXPECT_NE(log_.find("early stopping"), std::string::npos) << log_;
}

// Resumed with the same limits, an early-stopped run stays stopped; with a larger --patience it
// trains on until the new patience runs out.
TEST_F(TrainerTest, EarlyStoppedRunStaysStoppedOnResumeUnlessPatienceGrows) {
  TrainConfig c = config("run");
  c.epochs = 10;
  c.monitor = Monitor::kTrainLoss;
  c.min_delta = 1e9;
  c.patience = 2;
  train(c);
  c.resume = "auto";
  const TrainResult again = train(c);
  EXPECT_EQ(again.epochs, 3);
  EXPECT_NE(log_.find("stopped early"), std::string::npos) << log_;
  c.patience = 3;
  const TrainResult more = train(c);
  EXPECT_EQ(more.epochs, 4);
}

// --- refusals -------------------------------------------------------------------------------

TEST_F(TrainerTest, RefusesRunDirectoryWithCheckpointsWithoutResumeOrForce) {
  TrainConfig c = config("run");
  c.epochs = 1;
  train(c);
  try {
    train(c);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("--resume auto"), std::string::npos) << message;
    EXPECT_NE(message.find("--force"), std::string::npos) << message;
  }
}

// --force starts over: the old checkpoints are deleted, the new run starts from step 0.
TEST_F(TrainerTest, ForceStartsOverInRunDirectoryWithCheckpoints) {
  TrainConfig c = config("run");
  c.epochs = 2;
  train(c);
  ASSERT_EQ(step_checkpoints(c.out).size(), 2u);
  c.epochs = 1;
  c.force = true;
  const TrainResult again = train(c);
  EXPECT_EQ(again.steps, kStepsPerEpoch);
  EXPECT_EQ(step_checkpoints(c.out),
            std::vector<std::string>{fs::path(checkpoint_at(c.out, kStepsPerEpoch)).filename()});
  EXPECT_EQ(io::read_checkpoint(again.checkpoint).history.size(), 1u);
  EXPECT_EQ(log_.find("resumed"), std::string::npos) << log_;
}

TEST_F(TrainerTest, RefusesResumeFromAnotherArchitecture) {
  TrainConfig small = config("small");
  small.epochs = 1;
  const TrainResult first = train(small);
  TrainConfig large = config("large");
  large.spec.encoder = {784, 64, 16};
  large.resume = first.checkpoint;
  try {
    train(large);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("784-32-8-32-784"), std::string::npos) << message;
    EXPECT_NE(message.find("784-64-16-64-784"), std::string::npos) << message;
    EXPECT_NE(message.find(first.checkpoint), std::string::npos) << message;
  }
}

TEST_F(TrainerTest, RefusesEncoderThatDoesNotStartWithThePixelCount) {
  TrainConfig c = config("run");
  c.spec.encoder = {100, 10};
  try {
    train(c);
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("784"), std::string::npos) << message;
    EXPECT_NE(message.find("100"), std::string::npos) << message;
  }
}

// --- every optimizer, loss, tied weights ----------------------------------------------------

struct Variant {
  const char* name;
  model::OptimizerKind optimizer;
  double lr;
  model::LossKind loss;
  bool tied;
  model::Activation output;
};

void PrintTo(const Variant& v, std::ostream* out) {
  *out << v.name;
}

class TrainerVariantTest : public TrainerTest, public ::testing::WithParamInterface<Variant> {};

TEST_P(TrainerVariantTest, TrainsWithoutNanAndLossFalls) {
  const Variant& v = GetParam();
  TrainConfig c = config("run");
  c.optimizer.kind = v.optimizer;
  c.lr.base = v.lr;
  c.loss = v.loss;
  c.spec.tied = v.tied;
  c.spec.output = v.output;
  c.epochs = 2;
  const eval::Evaluation start = initial_evaluation(c);
  const TrainResult result = train(c);
  ASSERT_TRUE(std::isfinite(result.test.loss)) << log_;
  ASSERT_TRUE(std::isfinite(result.test.rmse)) << log_;
  EXPECT_LT(result.test.loss, 0.8 * start.loss) << "start " << start.loss << "\n" << log_;
  EXPECT_LT(result.test.rmse, start.rmse) << log_;
  for (const auto& array : io::read_checkpoint(result.checkpoint).parameters)
    for (float value : array.values) ASSERT_TRUE(std::isfinite(value)) << array.name;
}

using model::Activation;
using model::LossKind;
using model::OptimizerKind;
INSTANTIATE_TEST_SUITE_P(
    Variants, TrainerVariantTest,
    ::testing::Values(
        Variant{"sgd", OptimizerKind::kSgd, 20.0, LossKind::kMse, false, Activation::kSigmoid},
        Variant{"momentum", OptimizerKind::kMomentum, 2.0, LossKind::kMse, false,
                Activation::kSigmoid},
        Variant{"rmsprop", OptimizerKind::kRmsprop, 1e-3, LossKind::kMse, false,
                Activation::kSigmoid},
        Variant{"adagrad", OptimizerKind::kAdagrad, 5.0, LossKind::kMse, false,
                Activation::kSigmoid},
        Variant{"adam", OptimizerKind::kAdam, 3e-3, LossKind::kMse, false, Activation::kSigmoid},
        Variant{"rmse", OptimizerKind::kAdam, 3e-3, LossKind::kRmse, false, Activation::kSigmoid},
        Variant{"bce", OptimizerKind::kAdam, 3e-3, LossKind::kBce, false, Activation::kSigmoid},
        Variant{"l1", OptimizerKind::kAdam, 3e-3, LossKind::kL1, false, Activation::kSigmoid},
        Variant{"linear_output", OptimizerKind::kAdam, 3e-3, LossKind::kMse, false,
                Activation::kLinear},
        Variant{"tied", OptimizerKind::kAdam, 3e-3, LossKind::kMse, true, Activation::kSigmoid}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace aeflow::train
