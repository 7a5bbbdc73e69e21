// Data-parallel training across the ranks of this MPI job (ctest runs it under mpiexec -n 1, 2
// and 4; every rank runs every test): the ranks hold the same parameters bit for bit in every
// mode, the run follows the single-rank trajectory up to float summation order, and resumes are
// bit-for-bit. (Jobs that start their own mpiexec are in tests/cli/mpi_launch_test.cpp.)
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include "aeflow/base/error.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/evaluator.hpp"
#include "aeflow/io/checkpoint.hpp"
#include "aeflow/model/network.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "aeflow/train/trainer.hpp"
#include "test_support.hpp"

namespace aeflow {
namespace {

namespace fs = std::filesystem;

// A temporary directory with the same path on every rank: rank 0 creates it, broadcasts it.
std::string shared_temp_dir(const std::string& tag) {
  const mpi::Communicator world = mpi::Communicator::world();
  std::string dir = world.is_root() ? test::make_temp_dir(tag) : std::string();
  world.broadcast(dir);
  return dir;
}

class DataParallelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = shared_temp_dir("mpi");
    if (world_.is_root()) test::write_synthetic_mnist(root_ + "/data", 1100, 200);
    world_.barrier();
  }
  void TearDown() override {
    world_.barrier();
    std::error_code ignored;
    if (world_.is_root() && !HasFailure()) fs::remove_all(root_, ignored);
  }

  // 784-32-8 with noise, dropout and augmentation (their masks and distortions must follow
  // global positions), 20 steps of a global batch of 64: 16 rows per rank at 4 ranks.
  train::TrainConfig config(const std::string& out) const {
    train::TrainConfig c;
    c.data = root_ + "/data";
    c.out = out;
    c.config_ini = "# mpi test\n";
    c.spec.encoder = {784, 32, 8};
    c.spec.hidden = model::Activation::kRelu;
    c.spec.code = model::Activation::kRelu;
    c.spec.dropout = 0.1f;
    c.noise = 0.2f;
    c.augmentation = {8.0f, 0.05f, 1.0f};
    c.lr.base = 3e-3;
    c.batch_size = 64;
    c.steps = 20;
    c.validation = 100;
    c.test_limit = 200;
    c.seed = 11;
    return c;
  }

  // Trains on all ranks in every --grad-sync mode, and on each rank alone, with config()
  // changed by ADJUST; the models must agree up to float summation order.
  // Only the modes named in ONLY, if given.
  void expect_same_trajectory_as_one_rank(const std::function<void(train::TrainConfig&)>& adjust,
                                          const std::vector<std::string>& only = {});

  const mpi::Communicator world_ = mpi::Communicator::world();
  std::string root_;
};

// Tests of the node-shared modes, which one rank does not use: no mpiexec -n 1 entry
// (mpi_discover.cmake leaves out suites named *SeveralRanks*).
class DataParallelSeveralRanksTest : public DataParallelTest {};

// Whether oneDNN has a bf16 matmul for this CPU ("" if so, else why not).
std::string no_bf16_matmul() {
  model::ModelSpec small;
  small.encoder = {12, 8, 3};
  model::Network probe(small, false);
  try {
    probe.set_precision(model::Precision::kBf16);
  } catch (const InputError& error) {
    return error.what();
  }
  return "";
}

std::vector<float> flat_parameters(const io::CheckpointData& checkpoint) {
  std::vector<float> out;
  for (const auto& array : checkpoint.parameters)
    out.insert(out.end(), array.values.begin(), array.values.end());
  return out;
}

// The all-reduce modes, each by its option name.
const std::pair<train::GradSync, const char*> kModes[] = {{train::GradSync::kAuto, "auto"},
                                                          {train::GradSync::kSplit, "split"},
                                                          {train::GradSync::kShared, "shared"},
                                                          {train::GradSync::kFused, "fused"},
                                                          {train::GradSync::kOverlap, "overlap"}};

// After training in every mode, each rank's parameters equal rank 0's bit for bit: the run
// checks it itself after every step (--check-replicas 1, a hash of the parameters compared
// across ranks), and the final test evaluation confirms it. run_training does not hand out its
// parameters, so the evaluation is the witness: every rank computes it on its own contiguous
// slice of the test set with ITS OWN parameters before the sums are reduced, so loading rank 0's
// checkpoint on every rank and evaluating again over the same comm must reproduce the trained
// run's numbers bit for bit. A rank whose parameters differed in a way that reaches an output
// would change its slice's sum; one ulp in every parameter does (checked below).
TEST_F(DataParallelTest, ParametersAreBitwiseIdenticalOnEveryRankInEveryMode) {
  for (const auto& [mode, name] : kModes) {
    train::TrainConfig c = config(root_ + "/world-" + name);
    c.grad_sync = mode;
    c.check_replicas = 1;
    std::ostringstream log;
    const train::TrainResult result = train::run_training(c, world_, log);
    ASSERT_EQ(result.exit_code, 0) << name;
    ASSERT_EQ(result.steps, 20) << name;

    const io::CheckpointData checkpoint = io::read_checkpoint(result.checkpoint);
    EXPECT_EQ(checkpoint.state.world_size, world_.size());
    const model::Loss loss(c.loss);
    model::Network network(c.spec, loss.takes_logits());
    const std::vector<float> saved = flat_parameters(checkpoint);
    ASSERT_EQ(saved.size(), network.parameters().size());
    std::copy(saved.begin(), saved.end(), network.parameters().begin());
    data::Dataset test = data::load_split(c.data, data::Split::kTest).slice(0, 200);
    const eval::Evaluation again = eval::evaluate(network, loss, test, world_);
    EXPECT_EQ(std::bit_cast<uint64_t>(again.loss), std::bit_cast<uint64_t>(result.test.loss))
        << name << ": " << again.loss << " vs " << result.test.loss;
    EXPECT_EQ(std::bit_cast<uint64_t>(again.mse), std::bit_cast<uint64_t>(result.test.mse)) << name;

    // The check is sharp enough: had the last rank drifted by one ulp in every parameter (what
    // a different float summation order on one rank would do), the numbers would differ.
    if (world_.rank() == world_.size() - 1)
      for (float& p : network.parameters()) p = std::nextafter(p, INFINITY);
    const eval::Evaluation drifted = eval::evaluate(network, loss, test, world_);
    EXPECT_NE(std::bit_cast<uint64_t>(drifted.loss), std::bit_cast<uint64_t>(result.test.loss))
        << name;

    // Every rank also reports the same result and the same checkpoint path.
    const double loss_bits = double(std::bit_cast<uint64_t>(result.test.loss) >> 12);
    EXPECT_EQ(world_.allreduce_max(loss_bits), -world_.allreduce_max(-loss_bits)) << name;
    const double path_hash = double(std::hash<std::string>{}(result.checkpoint) >> 12);
    EXPECT_EQ(world_.allreduce_max(path_hash), -world_.allreduce_max(-path_hash)) << name;
  }
}

// --check-replicas catches a replica that differs: the last rank is given another learning
// rate, so after the first optimizer step its copy of the parameters differs from the others'.
// Every rank stops there with the same error (fused and overlap: the modes where each rank keeps a
// copy of its own; split and shared keep one copy per node.)
TEST_F(DataParallelSeveralRanksTest, CheckReplicasCatchesARankWhoseParametersDiffer) {
  for (const auto& [mode, name] : kModes) {
    if (mode != train::GradSync::kFused && mode != train::GradSync::kOverlap) continue;
    train::TrainConfig c = config(root_ + "/diverging-" + name);
    c.grad_sync = mode;
    c.check_replicas = 1;
    if (world_.rank() == world_.size() - 1) c.lr.base *= 2;
    std::ostringstream log;
    test::expect_error<RunError>([&] { train::run_training(c, world_, log); },
                                 {"replicas diverged", "after step 1 "});
    // Without the check the run goes to the end, the replicas apart.
    c.out += "-unchecked";
    c.check_replicas = 0;
    EXPECT_EQ(train::run_training(c, world_, log).steps, 20) << name;
  }
}

// Training on all ranks and, on each rank, a reference on this rank alone (Communicator::self():
// the whole global batch in one shard) reach the same model: same data order, same init, same noise
// and dropout masks; only the order of float sums differs (the all-reduce of the gradient,
// oneDNN's reduction over a shard's rows). Measured after 20 Adam steps: the largest parameter
// difference is ~6e-8 at 2 and 4 ranks (0 at 1 rank); the tolerance 1e-5 leaves a wide margin
// for float summation order and nothing more. Every --grad-sync mode is held to it.
TEST_F(DataParallelTest, SameTrajectoryAsOneRank) {
  expect_same_trajectory_as_one_rank({});
}

// 130 training images in batches of 64: every epoch ends with a batch of 2 rows, so at 4 ranks
// two ranks hold empty shards. They must still join every collective of every mode in step
// (an overlapped mode sends the same buckets, shared the same syncs) and add nothing.
TEST_F(DataParallelTest, EmptyShardsInTheTailBatchJoinEveryMode) {
  expect_same_trajectory_as_one_rank([](train::TrainConfig& c) {
    c.train_limit = 130;
    c.steps = 9;  // three epochs of 64, 64 and 2 rows
  });
}

// --grad-sync split gives each rank a slice of every layer's outputs: with a code layer of 3 at
// 4 ranks one rank owns none of it (its parts are left out of the sums), the code layer is
// linear (no activation backward) and BCE leaves the output layer without an activation. In
// bf16 too, where the code's 3 columns are an odd number of bf16 values a row in shared memory.
TEST_F(DataParallelTest, SplitHandlesLayersNarrowerThanTheRanksAndLogits) {
  const bool bf16 = no_bf16_matmul().empty();
  for (const model::Precision precision : {model::Precision::kFp32, model::Precision::kBf16}) {
    if (precision == model::Precision::kBf16 && !bf16) continue;  // (the fp32 case stands)
    expect_same_trajectory_as_one_rank(
        [precision](train::TrainConfig& c) {
          c.spec.encoder = {784, 24, 3};
          c.spec.code = model::Activation::kLinear;
          c.loss = model::LossKind::kBce;
          c.precision = precision;
          c.force = true;  // (the second precision trains in the first one's directories)
        },
        {"split", "fused"});
  }
}

// bf16 matmuls and GELU, with the fixture's dropout and noise: split shares the layers' outputs
// in bf16 and keeps each rank's columns of the pre-activation, shared computes whole rows as one
// rank does. Both stay as close to one rank as in f32 (measured: at most 3e-8 at 2 and 4 ranks),
// where a stale slice of the weights' bf16 copy (never updated) puts them 0.1 apart.
TEST_F(DataParallelTest, Bf16GeluFollowsOneRankUnderSplitAndShared) {
  const std::string why_not = no_bf16_matmul();
  if (!why_not.empty()) GTEST_SKIP() << why_not;
  expect_same_trajectory_as_one_rank(
      [](train::TrainConfig& c) {
        c.spec.hidden = model::Activation::kGelu;
        c.precision = model::Precision::kBf16;
      },
      {"split", "shared"});
}

// Tied weights: under split a tied decoder layer's own columns are rows of its encoder layer's
// weight that other ranks own, so its gradient reaches them through the shared dz, and a rank
// updates its rows only once both layers' terms are in. With the fixture's dropout and noise;
// at 4 ranks a code of 3 leaves one rank none of the code layer's rows (it adds no decoder term,
// but shares its columns of the first decoder layer's dz), and 784-3-2 leaves one rank none of
// a tied decoder layer's columns (it shares no dz there). (In f32: over 20 steps bf16 turns the
// order of sums into rounding flips that Adam amplifies, in shared as in split: up to 5e-5
// measured. The gradient-exchange test holds split's tied bf16 steps to one rank's within 1e-5.)
TEST_F(DataParallelTest, TiedWeightsFollowOneRankUnderSplit) {
  for (const std::vector<int>& encoder :
       {std::vector<int>{784, 32, 8}, std::vector<int>{784, 32, 3}, std::vector<int>{784, 3, 2}})
    expect_same_trajectory_as_one_rank(
        [&encoder](train::TrainConfig& c) {
          c.spec.encoder = encoder;
          c.spec.tied = true;
          c.force = true;  // (the later cases train in the first one's directories)
        },
        {"split", "shared"});
}

void DataParallelTest::expect_same_trajectory_as_one_rank(
    const std::function<void(train::TrainConfig&)>& adjust, const std::vector<std::string>& only) {
  auto config_for = [&](const std::string& out) {
    train::TrainConfig c = config(out);
    if (adjust) adjust(c);
    return c;
  };
  const train::TrainConfig alone = config_for(root_ + "/self-rank" + std::to_string(world_.rank()));
  std::ostringstream self_log;
  const train::TrainResult reference =
      train::run_training(alone, mpi::Communicator::self(), self_log);
  const auto b = flat_parameters(io::read_checkpoint(reference.checkpoint));
  const std::pair<train::GradSync, const char*> modes[] = {{train::GradSync::kSplit, "split"},
                                                           {train::GradSync::kShared, "shared"},
                                                           {train::GradSync::kFused, "fused"},
                                                           {train::GradSync::kOverlap, "overlap"}};
  for (const auto& [mode, name] : modes) {
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    train::TrainConfig parallel_config = config_for(root_ + "/world-" + name);
    parallel_config.grad_sync = mode;
    parallel_config.bucket_mb = 0.01;  // several buckets in the overlapped modes
    std::ostringstream log;
    const train::TrainResult parallel = train::run_training(parallel_config, world_, log);
    ASSERT_EQ(parallel.steps, reference.steps) << name;
    EXPECT_EQ(log.str().find("using --grad-sync"), std::string::npos) << name << ": fell back";

    const auto a = flat_parameters(io::read_checkpoint(parallel.checkpoint));
    ASSERT_EQ(a.size(), b.size());
    double largest = 0;
    for (size_t k = 0; k < a.size(); ++k)
      largest = std::max(largest, double(std::fabs(a[k] - b[k])));
    EXPECT_LT(largest, 1e-5) << name << ": max |parameter difference| at " << world_.size()
                             << " ranks";
    EXPECT_NEAR(parallel.test.loss, reference.test.loss, 1e-5 * reference.test.loss) << name;
    EXPECT_NEAR(parallel.test.rmse, reference.test.rmse, 1e-5 * reference.test.rmse) << name;
    if (world_.size() == 1) {  // the same computation exactly
      EXPECT_EQ(largest, 0.0) << name;
    }
    if (world_.is_root())
      std::printf("[ info ] %s, %d rank(s): max |param diff| vs one rank %.3g\n", name,
                  world_.size(), largest);
  }
}

// Stopped after 10 steps and resumed on the same ranks, a run ends bit for bit where the
// uninterrupted run does. With --grad-sync shared and split each rank keeps only its parts of
// Adam's moments current, so this also checks that checkpoints gather the whole state (split
// with tied weights: each rank's encoder rows, its decoder layers owning none); split under
// bf16 also that the resumed run's bf16 copy of the weights is made whole again.
TEST_F(DataParallelTest, ResumeOnTheSameRanksIsBitwiseEqual) {
  struct Case {
    train::GradSync mode;
    const char* name;
    bool bf16_gelu;
    bool tied = false;
  };
  const bool bf16 = no_bf16_matmul().empty();
  for (const Case& run : {Case{train::GradSync::kShared, "shared", false},
                          Case{train::GradSync::kSplit, "split", false},
                          Case{train::GradSync::kSplit, "split-bf16-gelu", true},
                          Case{train::GradSync::kSplit, "split-tied", false, true}}) {
    if (run.bf16_gelu && !bf16) continue;  // (no bf16 matmul here: the fp32 cases stand)
    const char* name = run.name;
    auto config_for = [&](const std::string& out) {
      train::TrainConfig c = config(root_ + "/" + name + "-" + out);
      c.grad_sync = run.mode;
      c.spec.tied = run.tied;
      if (run.bf16_gelu) {
        c.spec.hidden = model::Activation::kGelu;
        c.precision = model::Precision::kBf16;
      }
      return c;
    };
    std::ostringstream log;
    train::run_training(config_for("whole"), world_, log);
    train::TrainConfig first = config_for("parts");
    first.steps = 10;
    train::run_training(first, world_, log);
    train::TrainConfig rest = config_for("parts");
    rest.resume = "auto";
    const train::TrainResult resumed = train::run_training(rest, world_, log);
    ASSERT_EQ(resumed.steps, 20) << name;
    if (world_.is_root()) {
      const auto a = io::read_checkpoint(root_ + "/" + name + "-whole/checkpoints/latest.h5");
      const auto b = io::read_checkpoint(first.out + "/checkpoints/latest.h5");
      const auto pa = flat_parameters(a), pb = flat_parameters(b);
      ASSERT_EQ(pa.size(), pb.size());
      EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)), 0) << name;
      ASSERT_EQ(a.optimizer_state.size(), b.optimizer_state.size());
      for (size_t i = 0; i < a.optimizer_state.size(); ++i)
        EXPECT_EQ(a.optimizer_state[i].values, b.optimizer_state[i].values)
            << name << ": " << a.optimizer_state[i].name;
    }
  }
}

// For a fixed number of ranks, two runs with the same seed end bit for bit alike, whatever the
// reduction algorithm does with the order of sums: it does it the same way each time.
TEST_F(DataParallelTest, TwoRunsOnTheSameRanksAreBitwiseEqual) {
  for (const auto& [mode, name] : {std::pair{train::GradSync::kShared, "shared"},
                                   std::pair{train::GradSync::kSplit, "split"}}) {
    std::ostringstream log;
    for (const char* run : {"first", "second"}) {
      train::TrainConfig c = config(root_ + "/" + name + "-" + run);
      c.grad_sync = mode;
      train::run_training(c, world_, log);
    }
    if (world_.is_root()) {
      const auto a = io::read_checkpoint(root_ + "/" + name + "-first/checkpoints/latest.h5");
      const auto b = io::read_checkpoint(root_ + "/" + name + "-second/checkpoints/latest.h5");
      const auto pa = flat_parameters(a), pb = flat_parameters(b);
      ASSERT_EQ(pa.size(), pb.size());
      EXPECT_EQ(std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)), 0) << name;
      EXPECT_EQ(a.state.world_size, world_.size());
    }
  }
}

// --grad-sync auto takes split when the node's batch (activations, parts of dx) is less data
// to share between the cores than the model's parameters and gradients, shared otherwise: a wide
// model at a small batch splits, tied or not, a narrow one at a large batch does not.
TEST_F(DataParallelSeveralRanksTest, AutoChoosesByWhatCrossesBetweenCores) {
  struct Case {
    std::vector<int> encoder;
    int64_t batch;
    bool tied;
    const char* expected;
  };
  const Case cases[] = {{{784, 512, 64}, 16, false, "split"},
                        {{784, 512, 64}, 16, true, "split"},
                        {{784, 32, 8}, 128, false, "shared"}};
  for (const Case& one : cases) {
    train::TrainConfig c =
        config(root_ + "/auto-" + std::to_string(one.batch) + (one.tied ? "-tied" : ""));
    c.spec.encoder = one.encoder;
    c.spec.tied = one.tied;
    c.batch_size = one.batch;
    c.steps = 2;
    c.grad_sync = train::GradSync::kAuto;
    std::ostringstream log;
    const train::TrainResult result = train::run_training(c, world_, log);
    EXPECT_EQ(result.steps, 2);
    if (world_.is_root()) {
      EXPECT_NE(log.str().find(std::string("--grad-sync auto: ") + one.expected), std::string::npos)
          << log.str();
    }
  }
}

}  // namespace
}  // namespace aeflow
