#include "aeflow/base/denormals.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cstdint>
#include <thread>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace aeflow {
namespace {

#if defined(__x86_64__)
// The setting is the thread's own: put back what the test runner had.
class DenormalsTest : public ::testing::Test {
 protected:
  void TearDown() override { _mm_setcsr(saved_); }
  unsigned saved_ = _mm_getcsr();
};

// Through a volatile: computed at run time, under the thread's setting, not by the compiler.
float halve(float x) {
  volatile float value = x;
  return value * 0.5f;
}
float twice(float x) {
  volatile float value = x;
  return value * 2.0f;
}

// Bits, not ==: a comparison reads a subnormal as zero once inputs are flushed.
uint32_t bits(float x) {
  return std::bit_cast<uint32_t>(x);
}

TEST_F(DenormalsTest, SubnormalResultsAndInputsBecomeZero) {
  const float subnormal = halve(FLT_MIN);  // the smallest normal float, halved
  ASSERT_GT(subnormal, 0.0f);              // not flushed yet
  flush_denormals();
  EXPECT_EQ(bits(halve(FLT_MIN)), 0u);                 // a result
  EXPECT_EQ(bits(twice(subnormal)), 0u);               // an input, read as 0
  EXPECT_EQ(bits(halve(2 * FLT_MIN)), bits(FLT_MIN));  // normal values as before
}

TEST_F(DenormalsTest, ThreadsStartedAfterwardsFlushToo) {
  flush_denormals();
  float product = -1;
  std::thread([&] { product = halve(FLT_MIN); }).join();
  EXPECT_EQ(bits(product), 0u);
}
#else
TEST(Denormals, FlushingIsX86Only) {
  GTEST_SKIP() << "flush_denormals sets x86's MXCSR; on this architecture it does nothing";
}
#endif

}  // namespace
}  // namespace aeflow
