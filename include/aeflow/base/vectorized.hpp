// AEFLOW_VECTORIZED marks a hot elementwise loop (optimizer updates, losses, bias gradients)
// to be compiled three times, for AVX-512 (x86-64-v4), AVX2+FMA (x86-64-v3) and baseline
// x86-64, with the best one the CPU supports picked when the program loads (GCC's function
// multi-versioning). One portable binary then uses the full vector width of whichever node it
// lands on; without it the loops would be SSE2 only. Elsewhere it marks nothing.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AEFLOW_VECTORIZED \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define AEFLOW_VECTORIZED
#endif
