#include "aeflow/base/denormals.hpp"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace aeflow {

#if defined(__x86_64__)
namespace {
constexpr unsigned kFlushToZero = 0x8000;     // results that would be subnormal become 0
constexpr unsigned kDenormalsAreZero = 0x40;  // subnormal inputs are read as 0
}  // namespace

void flush_denormals() {
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
}
#else
void flush_denormals() {}
#endif

}  // namespace aeflow
