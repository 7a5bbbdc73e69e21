// Datasets: loading an images/labels pair, finding the MNIST files in a directory (raw or .gz),
// slicing, and the validation/training split.
#include "aeflow/data/dataset.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "test_support.hpp"

namespace aeflow::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::input_error;

// Writes COUNT images of 2x3 pixels (image i filled with i) and labels i % 10 into DIR.
void write_pair(const std::string& images, const std::string& labels, uint32_t count,
                uint32_t label_count, bool gzip = false) {
  std::vector<uint8_t> pixels, label_values;
  for (uint32_t i = 0; i < count; ++i) pixels.insert(pixels.end(), 6, uint8_t(i));
  for (uint32_t i = 0; i < label_count; ++i) label_values.push_back(uint8_t(i % 10));
  test::write_file(images, test::idx_images(pixels, count, 2, 3), gzip);
  test::write_file(labels, test::idx_labels(label_values), gzip);
}

TEST(Dataset, LoadIdxPairReadsImagesAndLabels) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/images", dir + "/labels", 4, 4);
  const Dataset data = load_idx_pair(dir + "/images", dir + "/labels", "train");
  EXPECT_EQ(data.name, "train");
  EXPECT_EQ(data.source, dir + "/images");
  EXPECT_EQ(data.count, 4u);
  EXPECT_EQ(data.rows, 2u);
  EXPECT_EQ(data.cols, 3u);
  EXPECT_EQ(data.width(), 6u);
  EXPECT_EQ(data.pixels.size(), 24u);
  EXPECT_THAT(data.labels, ElementsAre(0, 1, 2, 3));
  EXPECT_EQ(data.image(2)[0], 2);
  EXPECT_EQ(data.image(2)[5], 2);
}

TEST(Dataset, LoadIdxPairRejectsCountMismatch) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/images", dir + "/labels", 5, 4);
  EXPECT_THAT(
      input_error([&] { load_idx_pair(dir + "/images", dir + "/labels", "train"); }),
      HasSubstr(dir + "/labels: labels file has 4 labels for 5 images in " + dir + "/images"));
}

TEST(Dataset, LoadIdxPairRejectsSwappedFiles) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/images", dir + "/labels", 4, 4);
  EXPECT_THAT(input_error([&] { load_idx_pair(dir + "/labels", dir + "/images", "train"); }),
              HasSubstr(dir + "/labels: expected magic 0x00000803"));
}

TEST(Dataset, LoadSplitFindsRawFiles) {
  const std::string dir = test::write_synthetic_mnist(test::make_temp_dir("dataset"), 12, 5);
  const Dataset train = load_split(dir, Split::kTrain);
  const Dataset test = load_split(dir, Split::kTest);
  EXPECT_EQ(train.name, "train");
  EXPECT_EQ(train.count, 12u);
  EXPECT_EQ(train.source, dir + "/train-images-idx3-ubyte");
  EXPECT_EQ(test.name, "test");
  EXPECT_EQ(test.count, 5u);
  EXPECT_EQ(test.width(), 784u);
}

TEST(Dataset, LoadSplitFindsGzFiles) {
  const std::string raw = test::write_synthetic_mnist(test::make_temp_dir("dataset"), 12, 5);
  const std::string gz = test::write_synthetic_mnist(test::make_temp_dir("dataset"), 12, 5, true);
  const Dataset from_gz = load_split(gz, Split::kTrain);
  EXPECT_EQ(from_gz.source, gz + "/train-images-idx3-ubyte.gz");
  EXPECT_EQ(from_gz.pixels, load_split(raw, Split::kTrain).pixels);
  EXPECT_EQ(from_gz.labels, load_split(raw, Split::kTrain).labels);
}

TEST(Dataset, LoadSplitPrefersRawWhenBothExist) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte", 3, 3);
  write_pair(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", 7, 7, true);
  EXPECT_EQ(load_split(dir, Split::kTest).count, 3u);
}

TEST(Dataset, LoadSplitNamesDirectoryFilesAndFetchScriptWhenFilesMissing) {
  const std::string dir = test::make_temp_dir("dataset");
  const std::string message = input_error([&] { load_split(dir, Split::kTrain); });
  EXPECT_THAT(message, HasSubstr(dir + ": no train-images-idx3-ubyte and train-labels-idx1-ubyte"));
  EXPECT_THAT(message, HasSubstr("run scripts/fetch-data.sh"));
}

TEST(Dataset, LoadSplitNamesTheOneMissingFile) {
  const std::string dir = test::write_synthetic_mnist(test::make_temp_dir("dataset"), 2, 2);
  std::filesystem::remove(dir + "/t10k-labels-idx1-ubyte");
  EXPECT_THAT(input_error([&] { load_split(dir, Split::kTest); }),
              HasSubstr(dir + ": no t10k-labels-idx1-ubyte (raw or .gz)"));
}

TEST(Dataset, LoadSplitRejectsMissingDirectory) {
  const std::string dir = test::make_temp_dir("dataset") + "/absent";
  const std::string message = input_error([&] { load_split(dir, Split::kTrain); });
  EXPECT_THAT(message, HasSubstr(dir + ": no such directory"));
  EXPECT_THAT(message, HasSubstr("run scripts/fetch-data.sh"));
}

TEST(Dataset, SliceCopiesImagesAndLabels) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/images", dir + "/labels", 5, 5);
  const Dataset part = load_idx_pair(dir + "/images", dir + "/labels", "train").slice(1, 3);
  EXPECT_EQ(part.name, "train");
  EXPECT_EQ(part.count, 2u);
  EXPECT_EQ(part.width(), 6u);
  EXPECT_THAT(part.pixels, ElementsAre(1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2));
  EXPECT_THAT(part.labels, ElementsAre(1, 2));
}

TEST(Dataset, SliceRejectsOutOfRange) {
  const std::string dir = test::make_temp_dir("dataset");
  write_pair(dir + "/images", dir + "/labels", 5, 5);
  const Dataset data = load_idx_pair(dir + "/images", dir + "/labels", "train");
  EXPECT_THAT(input_error([&] { data.slice(3, 6); }),
              HasSubstr("slice [3, 6) is out of range for 5 images"));
  EXPECT_THAT(input_error([&] { data.slice(4, 2); }), HasSubstr("slice [4, 2)"));
  EXPECT_EQ(data.slice(5, 5).count, 0u);
}

TEST(Dataset, SplitTrainingHoldsOutTheFirstImagesAndLimitsTheRest) {
  Dataset all;
  all.name = "train";
  all.source = "train-images";
  all.count = 10, all.rows = 1, all.cols = 2;
  for (uint8_t i = 0; i < 10; ++i) {
    all.pixels.insert(all.pixels.end(), {i, i});
    all.labels.push_back(i);
  }
  const TrainingSplit whole = split_training(all, 3, 0);
  EXPECT_THAT(whole.validation.labels, ElementsAre(0, 1, 2));
  EXPECT_THAT(whole.train.labels, ElementsAre(3, 4, 5, 6, 7, 8, 9));
  EXPECT_THAT(split_training(all, 3, 4).train.labels, ElementsAre(3, 4, 5, 6));
  EXPECT_THAT(split_training(all, 3, 100).train.labels, ElementsAre(3, 4, 5, 6, 7, 8, 9));
  EXPECT_TRUE(split_training(all, 0, 2).validation.labels.empty());
  EXPECT_EQ(input_error([&] { split_training(all, 10, 0); }),
            "--validation 10 leaves no training images (train-images has 10)");
}

}  // namespace
}  // namespace aeflow::data
