// The IDX reader: raw and gzip files read the same, and each kind of bad file is rejected with a
// message that names the file and says what was expected and what was found.
#include "aeflow/data/idx.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "aeflow/base/error.hpp"
#include "test_support.hpp"

namespace aeflow::data {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::input_error;

// 3 images of 4x5 pixels, values 0..59.
std::vector<uint8_t> small_pixels() {
  std::vector<uint8_t> pixels(60);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i);
  return pixels;
}

std::string write_images(const std::string& name, bool gzip = false) {
  const std::string path = test::make_temp_dir("idx") + "/" + name;
  test::write_file(path, test::idx_images(small_pixels(), 3, 4, 5), gzip);
  return path;
}

TEST(Idx, ReadsRawImages) {
  const std::string path = write_images("images");
  const IdxArray array = read_idx(path, 3);
  EXPECT_EQ(array.path, path);
  EXPECT_THAT(array.dims, ElementsAre(3, 4, 5));
  EXPECT_EQ(array.values, small_pixels());
}

TEST(Idx, ReadsRawLabels) {
  const std::string path = test::make_temp_dir("idx") + "/labels";
  test::write_file(path, test::idx_labels({7, 0, 255}));
  const IdxArray array = read_idx(path, 1);
  EXPECT_THAT(array.dims, ElementsAre(3));
  EXPECT_THAT(array.values, ElementsAre(7, 0, 255));
}

TEST(Idx, GzipReadsTheSameValuesAsRaw) {
  const IdxArray raw = read_idx(write_images("images"), 3);
  const IdxArray gz = read_idx(write_images("images.gz", true), 3);
  EXPECT_EQ(gz.dims, raw.dims);
  EXPECT_EQ(gz.values, raw.values);
}

TEST(Idx, DetectsGzipByContentNotByName) {
  EXPECT_EQ(read_idx(write_images("gzipped-without-suffix", true), 3).values, small_pixels());
  EXPECT_EQ(read_idx(write_images("raw-with-suffix.gz", false), 3).values, small_pixels());
}

TEST(Idx, RejectsTruncatedPayload) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  std::vector<uint8_t> bytes = test::idx_images(small_pixels(), 3, 4, 5);
  bytes.resize(bytes.size() - 10);
  test::write_file(path, bytes);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": truncated: header says 3x4x5 = 60 bytes of data, file holds 50"));
}

TEST(Idx, RejectsTruncatedPayloadInsideGzip) {
  const std::string path = test::make_temp_dir("idx") + "/images.gz";
  std::vector<uint8_t> bytes = test::idx_images(small_pixels(), 3, 4, 5);
  bytes.resize(bytes.size() - 10);
  test::write_file(path, bytes, true);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": truncated: header says 3x4x5 = 60 bytes of data, "
                               "decompressed data holds 50"));
}

// Found by fuzzing (tests/fuzz/corpus/idx/crash-*): a gzip header claiming rows of petabytes made
// IdxReader's callers size their buffers by it. No gzip file decompresses to more than 1032 times
// its size (deflate's limit), so such a header is refused when the file is opened.
TEST(Idx, RejectsGzipWhoseHeaderClaimsMoreThanDeflateCanHold) {
  const std::string path = test::make_temp_dir("idx") + "/images.gz";
  std::vector<uint8_t> bytes = test::idx_images(small_pixels(), 3, 4, 5);
  bytes[4] = 1;  // 3 images become 0x01000003 of them: 335 MB of pixels in a tiny file
  test::write_file(path, bytes, true);
  for (auto open : {std::function<void()>([&] { read_idx(path, 3); }),
                    std::function<void()>([&] { data::IdxReader reader(path, 3); })})
    EXPECT_THAT(input_error(open),
                AllOf(HasSubstr(path + ": truncated or a damaged header: header says 16777219x4x5"),
                      HasSubstr("bytes decompresses to at most")));
}

TEST(Idx, RejectsTruncatedHeader) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  test::write_file(path, {0, 0, 8, 3, 0, 0, 0, 3, 0, 0});
  EXPECT_THAT(
      input_error([&] { read_idx(path, 3); }),
      HasSubstr(path + ": truncated: the header with 3 dims needs 16 bytes, file holds 10"));
}

TEST(Idx, RejectsTrailingBytes) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  std::vector<uint8_t> bytes = test::idx_images(small_pixels(), 3, 4, 5);
  bytes.insert(bytes.end(), {1, 2, 3});
  test::write_file(path, bytes);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": trailing data: header says 3x4x5 = 60 bytes of data, file "
                               "holds 63 (3 bytes too many)"));
}

TEST(Idx, RejectsTextFile) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  const std::string text = "Not Found: the requested file does not exist\n";
  test::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
  const std::string message = input_error([&] { read_idx(path, 3); });
  EXPECT_THAT(message, HasSubstr(path + ": expected magic 0x00000803 (unsigned byte images, 3 "
                                        "dims), found 0x4e6f7420"));
  EXPECT_THAT(message, HasSubstr("text: \"Not Found: the r"));
}

TEST(Idx, RejectsHtmlPage) {
  const std::string path = test::make_temp_dir("idx") + "/labels";
  const std::string html = "<!DOCTYPE html><html><body>moved</body></html>";
  test::write_file(path, std::vector<uint8_t>(html.begin(), html.end()));
  const std::string message = input_error([&] { read_idx(path, 1); });
  EXPECT_THAT(message,
              HasSubstr(path + ": expected magic 0x00000801 (unsigned byte labels, 1 dim)"));
  EXPECT_THAT(message, HasSubstr("HTML"));
}

TEST(Idx, RejectsFileShorterThanMagic) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  test::write_file(path, {0, 0});
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": expected magic 0x00000803 (unsigned byte images, 3 dims), but "
                               "the file holds only 2 bytes"));
}

TEST(Idx, RejectsLabelsFileReadAsImages) {
  const std::string path = test::make_temp_dir("idx") + "/labels";
  test::write_file(path, test::idx_labels({1, 2, 3}));
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": expected magic 0x00000803 (unsigned byte images, 3 dims), found "
                               "0x00000801 (unsigned byte IDX with 1 dim: a labels file?)"));
}

TEST(Idx, RejectsNonByteValueType) {
  const std::string path = test::make_temp_dir("idx") + "/floats";
  test::write_file(path, {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  EXPECT_THAT(input_error([&] { read_idx(path, 1); }),
              HasSubstr("found 0x00000d01 (IDX of 32-bit floats; only unsigned byte IDX"));
}

TEST(Idx, RejectsZeroDim) {
  const std::string path = test::make_temp_dir("idx") + "/images";
  test::write_file(path, test::idx_images({}, 3, 0, 5));
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": header says dims 3x0x5: dim 2 is zero"));
}

TEST(Idx, RejectsGzipWithFlippedBytes) {
  const std::string path = write_images("images.gz", true);
  std::vector<uint8_t> bytes = test::read_file(path);
  for (size_t i = bytes.size() / 2 - 2; i < bytes.size() / 2 + 2; ++i) bytes[i] ^= 0x5a;
  test::write_file(path, bytes);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }), HasSubstr(path + ": damaged gzip data"));
}

TEST(Idx, RejectsGzipCutShort) {
  const std::string path = write_images("images.gz", true);
  std::vector<uint8_t> bytes = test::read_file(path);
  bytes.resize(bytes.size() / 2);
  test::write_file(path, bytes);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": damaged gzip data: the compressed stream is cut short"));
}

TEST(Idx, RejectsGzipMissingItsChecksumTrailer) {
  const std::string path = write_images("images.gz", true);
  std::vector<uint8_t> bytes = test::read_file(path);
  bytes.resize(bytes.size() - 4);
  test::write_file(path, bytes);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": damaged gzip data: the compressed stream is cut short"));
}

TEST(Idx, RejectsGzipCompressedTwice) {
  const std::string path = test::make_temp_dir("idx") + "/images.gz";
  test::write_file(path, test::read_file(write_images("images.gz", true)), true);
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }), HasSubstr("compressed twice?"));
}

TEST(Idx, RejectsMissingFile) {
  const std::string path = test::make_temp_dir("idx") + "/absent";
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }),
              HasSubstr(path + ": cannot open: No such file or directory"));
}

TEST(Idx, RejectsDirectory) {
  const std::string path = test::make_temp_dir("idx");
  EXPECT_THAT(input_error([&] { read_idx(path, 3); }), HasSubstr(path + ": cannot open"));
}

}  // namespace
}  // namespace aeflow::data
