// The compute bound that aeflow's throughput benchmarks compare against: a oneDNN fp32 matmul
// timed on one thread, with the weights read through the same transposed view as a Network
// layer's forward pass (stored [N, K], read as [K, N]). Prints one line:
//   gemm M=1024 K=784 N=512: 201.3 GFLOP/s (1 thread, oneDNN 2.6.3, brg:avx512_core)
// Usage: aeflow_gemm_peak [M K N [SECONDS [WEIGHTS [TYPE]]]]   (defaults 1024 784 512, 2 s)
// WEIGHTS is how the [K, N] weights lie in memory: "transposed" (the default, as above),
// "plain" (row-major [K, N]) or "any" (the blocked layout oneDNN picks for the matmul, the
// weights reordered into it once, before timing): what a layer would gain from keeping its
// weights in oneDNN's own layout. TYPE is the operands' type: f32 (the default) or bf16 (what
// --precision bf16 multiplies; the output stays f32).
// It is a measuring tool, not a test: it checks nothing but that the matmul runs.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

int main(int argc, char** argv) {
  const long m = argc > 3 ? std::atol(argv[1]) : 1024;
  const long k = argc > 3 ? std::atol(argv[2]) : 784;
  const long n = argc > 3 ? std::atol(argv[3]) : 512;
  const double seconds = argc > 4 ? std::atof(argv[4]) : 2.0;
  const char* layout = argc > 5 ? argv[5] : "transposed";
  const char* type = argc > 6 ? argv[6] : "f32";
  const bool known = (!std::strcmp(layout, "transposed") || !std::strcmp(layout, "plain") ||
                      !std::strcmp(layout, "any")) &&
                     (!std::strcmp(type, "f32") || !std::strcmp(type, "bf16"));
  if (m <= 0 || k <= 0 || n <= 0 || seconds <= 0 || !known) {
    std::fprintf(stderr,
                 "usage: aeflow_gemm_peak [M K N [SECONDS [transposed|plain|any [f32|bf16]]]]\n");
    return 2;
  }
  omp_set_num_threads(1);

  using dnnl::memory;
  using dt = memory::data_type;
  const dt operands = !std::strcmp(type, "bf16") ? dt::bf16 : dt::f32;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::dims weight_strides =
      !std::strcmp(layout, "plain") ? memory::dims{n, 1} : memory::dims{1, k};  // [N,K] as [K,N]
  const memory::desc src({m, k}, operands, memory::dims{k, 1});
  const memory::desc weights({k, n}, operands, weight_strides);
  const memory::desc dst({m, n}, dt::f32, memory::dims{n, 1});
  const memory::desc asked = !std::strcmp(layout, "any")
                                 ? memory::desc({k, n}, operands, memory::format_tag::any)
                                 : weights;
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, asked, dst), engine);
  const dnnl::matmul matmul(pd);

  std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c(size_t(m * n));
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 251) / 251.0f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(i % 127) / 127.0f - 0.5f;
  // The values as f32, converted to the operands' type once.
  memory a32({{m, k}, dt::f32, memory::dims{k, 1}}, engine, a.data()),
      b32({{k, n}, dt::f32, weight_strides}, engine, b.data());
  memory a_mem(src, engine), b_mem(weights, engine), c_mem(dst, engine, c.data());
  dnnl::reorder(a32, a_mem).execute(stream, a32, a_mem);
  dnnl::reorder(b32, b_mem).execute(stream, b32, b_mem);
  stream.wait();
  if (pd.weights_desc() != weights) {  // "any": the matmul reads its own layout
    memory blocked(pd.weights_desc(), engine);
    dnnl::reorder(b_mem, blocked).execute(stream, b_mem, blocked);
    stream.wait();
    b_mem = blocked;
  }
  auto run = [&] {
    matmul.execute(stream,
                   {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    stream.wait();
  };
  for (int i = 0; i < 10; ++i) run();  // warm-up: JIT, caches, clocks

  // The best of several timed rounds: the peak the machine can give, not an average of
  // whatever else ran beside it.
  using Clock = std::chrono::steady_clock;
  double best = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const int reps = 20;
    const auto start = Clock::now();
    for (int i = 0; i < reps; ++i) run();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::max(best, 2.0 * double(m) * double(k) * double(n) * reps / elapsed / 1e9);
  }
  const dnnl_version_t* version = dnnl_version();
  std::printf("gemm M=%ld K=%ld N=%ld: %.1f GFLOP/s (1 thread, oneDNN %d.%d.%d, %s%s%s%s)\n", m, k,
              n, best, version->major, version->minor, version->patch, pd.impl_info_str(),
              std::strcmp(layout, "transposed") ? ", weights " : "",
              std::strcmp(layout, "transposed") ? layout : "",
              operands == dt::bf16 ? ", bf16" : "");
  return 0;
}
