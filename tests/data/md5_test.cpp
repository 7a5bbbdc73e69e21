// MD5 against the RFC 1321 test suite and lengths around the padding boundary; file_md5.
#include "aeflow/data/md5.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "aeflow/base/error.hpp"
#include "test_support.hpp"

namespace aeflow::data {
namespace {

using ::testing::HasSubstr;

TEST(Md5, MatchesRfc1321TestSuite) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(md5_hex("1234567890123456789012345678901234567890123456789012345678901234567890123456"
                    "7890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, HandlesLengthsAroundThePaddingBoundary) {
  EXPECT_EQ(md5_hex(std::string(55, 'a')), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(md5_hex(std::string(56, 'a')), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(md5_hex(std::string(63, 'a')), "b06521f39153d618550606be297466d5");
  EXPECT_EQ(md5_hex(std::string(64, 'a')), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(md5_hex(std::string(65, 'a')), "c743a45e0d2e6a95cb859adae0248435");
}

TEST(Md5, IncrementalUpdatesMatchOneCall) {
  const std::string text(1000, 'a');
  for (size_t step : {1, 7, 63, 64, 65, 333}) {
    Md5 md5;
    for (size_t at = 0; at < text.size(); at += step)
      md5.update(text.data() + at, std::min(step, text.size() - at));
    EXPECT_EQ(md5.hex_digest(), "cabe45dcc9ae5b66ba86600cca6b8ba8") << "step " << step;
  }
}

TEST(Md5, FileMd5HashesTheStoredBytes) {
  const std::string path = test::make_temp_dir("md5") + "/abc";
  test::write_file(path, {'a', 'b', 'c'});
  EXPECT_EQ(file_md5(path), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5, FileMd5OfMissingFileNamesIt) {
  const std::string path = test::make_temp_dir("md5") + "/absent";
  try {
    file_md5(path);
    FAIL() << "no exception";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr(path + ": cannot open: No such file or directory"));
  }
}

}  // namespace
}  // namespace aeflow::data
