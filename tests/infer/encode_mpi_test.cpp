// Bulk encoding across the ranks of this MPI job (ctest runs it under mpiexec -n 1, 2 and 4;
// every rank runs every test): the encoded file holds the same bits whatever the number of
// ranks, each latent is the encoder's output for its row, and an ingested HDF5 input encodes
// exactly like the IDX files it came from.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "aeflow/data/batch.hpp"
#include "aeflow/data/dataset.hpp"
#include "aeflow/eval/load_model.hpp"
#include "aeflow/infer/encode.hpp"
#include "aeflow/io/hdf5.hpp"
#include "aeflow/io/images_file.hpp"
#include "aeflow/mpi/communicator.hpp"
#include "test_support.hpp"

namespace aeflow::infer {
namespace {

namespace fs = std::filesystem;

class EncodeMpiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = world_.is_root() ? test::make_temp_dir("encode-mpi") : std::string();
    world_.broadcast(dir);
    root_ = dir;
    if (world_.is_root()) {
      // 1100 and 300 rows: neither a multiple of the 256-row block nor of the pieces.
      test::write_synthetic_mnist(root_ + "/data", 1100, 300);
      test::write_initialized_checkpoint(checkpoint(), {784, 32, 8}, 5);
    }
    world_.barrier();
  }
  void TearDown() override {
    world_.barrier();
    std::error_code ignored;
    if (world_.is_root() && !HasFailure()) fs::remove_all(root_, ignored);
  }

  std::string checkpoint() const { return root_ + "/model.h5"; }

  // Chunks of 300 rows are rounded up to pieces of 512: the 1100 training rows make 3 pieces,
  // so with 4 ranks one rank has none and only joins the collective calls.
  EncodeConfig config(const std::string& out) const {
    EncodeConfig c;
    c.checkpoint = checkpoint();
    c.data = root_ + "/data";
    c.out = out;
    c.chunk_rows = 300;
    c.deflate = 1;
    return c;
  }

  const mpi::Communicator world_ = mpi::Communicator::world();
  std::string root_;
};

// The raw bytes of a dataset, for bitwise comparison.
template <class T>
std::vector<T> read_all(const std::string& path, const std::string& dataset) {
  const io::h5::File file = io::h5::File::open(path);
  return file.read_dataset<T>(dataset);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_F(EncodeMpiTest, FileHoldsTheSameBitsForAnyNumberOfRanks) {
  std::ostringstream log;
  const EncodeResult result = run_encode(config(root_ + "/world.h5"), world_, log);
  ASSERT_EQ(result.splits.size(), 2u);
  EXPECT_EQ(result.splits[0].count, 1100u);
  if (world_.is_root()) {
    // The one-rank reference, computed by rank 0 alone inside this job.
    run_encode(config(root_ + "/self.h5"), mpi::Communicator::self(), log);
    for (const std::string split : {"train", "test"}) {
      SCOPED_TRACE(split);
      const std::vector<float> world = read_all<float>(root_ + "/world.h5", split + "/latent");
      const std::vector<float> self = read_all<float>(root_ + "/self.h5", split + "/latent");
      EXPECT_TRUE(same_bits(world, self)) << world_.size() << " ranks differ from one";
      EXPECT_EQ(read_all<uint8_t>(root_ + "/world.h5", split + "/label"),
                read_all<uint8_t>(root_ + "/self.h5", split + "/label"));
      EXPECT_EQ(read_all<uint64_t>(root_ + "/world.h5", split + "/index"),
                read_all<uint64_t>(root_ + "/self.h5", split + "/index"));
    }
    EXPECT_FALSE(fs::exists(root_ + "/world.h5.tmp"));
  }
}

TEST_F(EncodeMpiTest, EachLatentIsTheEncoderOutputOfItsRowInAlignedBlocks) {
  std::ostringstream log;
  run_encode(config(root_ + "/world.h5"), world_, log);
  if (!world_.is_root()) return;
  const data::Dataset train = data::load_split(root_ + "/data", data::Split::kTrain);
  eval::LoadedModel model = eval::load_model(checkpoint());
  const size_t k = 8, width = train.width();
  std::vector<float> expected(train.count * k), input(train.count * width);
  data::fill_range(train, 0, train.count, input.data());
  for (size_t b = 0; b < train.count; b += kEncodeBlockRows)
    model.network->encode(input.data() + b * width,
                          int(std::min(kEncodeBlockRows, train.count - b)),
                          expected.data() + b * k);
  const io::h5::File file = io::h5::File::open(root_ + "/world.h5");
  std::vector<size_t> shape;
  const std::vector<float> latent = file.read_dataset<float>("train/latent", &shape);
  EXPECT_EQ(shape, (std::vector<size_t>{1100, 8}));
  EXPECT_TRUE(same_bits(latent, expected));
  EXPECT_EQ(file.read_dataset<uint8_t>("train/label"), train.labels);
  const std::vector<uint64_t> index = file.read_dataset<uint64_t>("train/index");
  for (size_t i = 0; i < index.size(); ++i) ASSERT_EQ(index[i], i);

  // All rows in one batch give the same codes up to float rounding (not necessarily the bits).
  std::vector<float> whole(train.count * k);
  model.network->encode(input.data(), int(train.count), whole.data());
  double worst = 0;
  for (size_t i = 0; i < whole.size(); ++i)
    worst = std::max(worst, double(std::fabs(whole[i] - latent[i])));
  EXPECT_LT(worst, 1e-4);
}

TEST_F(EncodeMpiTest, IngestedFileEncodesLikeTheIdxFiles) {
  const std::string ingested = root_ + "/train.h5";
  if (world_.is_root()) {
    io::IngestOptions options;
    options.images = root_ + "/data/train-images-idx3-ubyte";
    options.labels = root_ + "/data/train-labels-idx1-ubyte";
    options.out = ingested;
    options.chunk_rows = 100;  // chunks that do not line up with the encoder's pieces
    options.deflate = 1;
    io::ingest_idx(options);
  }
  world_.barrier();
  std::ostringstream log;
  run_encode(config(root_ + "/idx.h5"), world_, log);
  EncodeConfig from_h5 = config(root_ + "/h5.h5");
  from_h5.data = ingested;
  from_h5.splits = {"train"};
  run_encode(from_h5, world_, log);
  if (world_.is_root()) {
    EXPECT_TRUE(same_bits(read_all<float>(root_ + "/idx.h5", "train/latent"),
                          read_all<float>(root_ + "/h5.h5", "train/latent")));
    EXPECT_EQ(read_all<uint8_t>(root_ + "/idx.h5", "train/label"),
              read_all<uint8_t>(root_ + "/h5.h5", "train/label"));
    const io::h5::File file = io::h5::File::open(root_ + "/h5.h5");
    EXPECT_EQ(file.children(), (std::vector<std::string>{"train"}));
    EXPECT_EQ(file.open_group("train").string_attribute("images"), ingested);
  }
}

}  // namespace
}  // namespace aeflow::infer
