// The streaming IDX reader: any range of rows of a raw or gzip file, forward and backward, the
// same values as the whole-file reader; a raw file of the wrong size is refused on opening, a
// gzip file that is too short or too long when its rows run out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "aeflow/data/idx.hpp"
#include "test_support.hpp"

namespace aeflow::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 7 images of 3x2 pixels: image i holds 6 i .. 6 i + 5.
std::vector<uint8_t> pixels() {
  std::vector<uint8_t> values(42);
  for (size_t i = 0; i < values.size(); ++i) values[i] = uint8_t(i);
  return values;
}

std::string write_images(bool gzip, std::vector<uint8_t> bytes = {}) {
  const std::string path = test::make_temp_dir("idxr") + "/images";
  test::write_file(path, bytes.empty() ? test::idx_images(pixels(), 7, 3, 2) : bytes, gzip);
  return path;
}

std::vector<uint8_t> rows(IdxReader& reader, size_t first, size_t count) {
  std::vector<uint8_t> out(count * reader.row_size());
  reader.read_rows(first, count, out.data());
  return out;
}

using test::input_error;

class IdxReaderTest : public ::testing::TestWithParam<bool> {};  // raw, gzip

TEST_P(IdxReaderTest, ReadsAnyRangeForwardAndBackward) {
  IdxReader reader(write_images(GetParam()), 3);
  EXPECT_THAT(reader.dims(), ElementsAre(7, 3, 2));
  EXPECT_EQ(reader.count(), 7u);
  EXPECT_EQ(reader.row_size(), 6u);
  EXPECT_EQ(reader.gzip(), GetParam());
  EXPECT_THAT(rows(reader, 2, 1), ElementsAre(12, 13, 14, 15, 16, 17));
  EXPECT_THAT(rows(reader, 3, 1), ElementsAre(18, 19, 20, 21, 22, 23));  // straight on
  EXPECT_THAT(rows(reader, 0, 1), ElementsAre(0, 1, 2, 3, 4, 5));        // back
  EXPECT_EQ(rows(reader, 0, 7), pixels());                               // everything
  EXPECT_THAT(rows(reader, 6, 1), ElementsAre(36, 37, 38, 39, 40, 41));  // the end again
  EXPECT_TRUE(rows(reader, 7, 0).empty());
  EXPECT_THROW(rows(reader, 5, 3), std::out_of_range);
}

TEST_P(IdxReaderTest, ReadsLabels) {
  const std::string path = test::make_temp_dir("idxr") + "/labels";
  test::write_file(path, test::idx_labels({3, 1, 4, 1, 5}), GetParam());
  IdxReader reader(path, 1);
  EXPECT_EQ(reader.row_size(), 1u);
  EXPECT_THAT(rows(reader, 1, 3), ElementsAre(1, 4, 1));
}

TEST_P(IdxReaderTest, RefusesATruncatedFile) {
  std::vector<uint8_t> bytes = test::idx_images(pixels(), 7, 3, 2);
  bytes.resize(bytes.size() - 4);
  const std::string path = write_images(GetParam(), bytes);
  const std::string message = input_error([&] {
    IdxReader reader(path, 3);
    rows(reader, 6, 1);
  });
  EXPECT_THAT(message, HasSubstr(path + ": truncated: header says 7x3x2 = 42 bytes of data"));
}

TEST_P(IdxReaderTest, RefusesTrailingBytes) {
  std::vector<uint8_t> bytes = test::idx_images(pixels(), 7, 3, 2);
  bytes.push_back(9);
  const std::string path = write_images(GetParam(), bytes);
  const std::string message = input_error([&] {
    IdxReader reader(path, 3);
    rows(reader, 0, 7);
  });
  EXPECT_THAT(message, HasSubstr("trailing data"));
  EXPECT_THAT(message, HasSubstr("1 bytes too many"));
}

INSTANTIATE_TEST_SUITE_P(RawAndGzip, IdxReaderTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Gzip" : "Raw"; });

TEST(IdxReader, ChecksTheHeaderLikeReadIdx) {
  const std::string path = test::make_temp_dir("idxr") + "/labels";
  test::write_file(path, test::idx_labels({1, 2}));
  EXPECT_THAT(input_error([&] { IdxReader(path, 3); }), HasSubstr("expected magic 0x00000803"));
  EXPECT_THAT(input_error([&] { IdxReader("/nonexistent/images", 3); }),
              HasSubstr("/nonexistent/images: cannot open"));
}

TEST(IdxReader, RawFileOfTheWrongSizeIsRefusedOnOpening) {
  std::vector<uint8_t> bytes = test::idx_images(pixels(), 7, 3, 2);
  bytes.pop_back();
  const std::string path = write_images(false, bytes);
  EXPECT_THAT(input_error([&] { IdxReader(path, 3); }), HasSubstr("truncated"));
}

}  // namespace
}  // namespace aeflow::data
