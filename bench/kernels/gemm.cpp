// tl::simd::gemm against OpenBLAS cblas_sgemm, float32, one thread, on the
// shapes of the 784-256-128-10 MLP at batch 64 (forward X W^T, input gradient
// dY W, weight gradient dY^T X) and on tiny shapes. Prints a markdown table:
// time per call, GFLOP/s, the percentage of the single-core FMA peak (the
// peak loop is timed in the same interleaved rounds) and the speed ratio to
// OpenBLAS (> 1: tapeless is faster), taken round by round. A second table
// times X W^T alone and with a layer's bias and relu in its epilogue.
//
//   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 ./kernels_gemm
//   OPENBLAS_CORETYPE=SkylakeX ...   (Debian's OpenBLAS 0.3.21 uses its AVX2
//                                     kernels on Zen 5 unless told so)
// Without OpenBLAS in the build, only tapeless is timed.

#include "fma_peak.hpp"
#include "harness.hpp"

#include <tapeless/simd/gemm.hpp>

#ifdef TAPELESS_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>

namespace simd = tapeless::simd;
using simd::op;
using namespace tapeless::bench;

namespace {

struct aligned_free {
  void operator()(float* p) const { std::free(p); }
};
using buffer = std::unique_ptr<float[], aligned_free>;

buffer random_buffer(std::size_t n, unsigned seed) {
  const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  buffer b(static_cast<float*>(std::aligned_alloc(64, bytes)));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (std::size_t i = 0; i < n; ++i) b[i] = dist(rng);
  return b;
}

const char* op_name(op o) { return o == op::none ? "N" : "T"; }

using peak = fma_peak<xsimd::default_arch>;

// One markdown table row: time and GFLOP/s of each, the share of the FMA peak
// (timed in the same interleaved rounds), and the speed ratio to OpenBLAS
// (> 1: tapeless is faster), each a median with its min-max over the rounds.
template <std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB>
void compare(const char* what) {
  const buffer a = random_buffer(M * K, 1), b = random_buffer(K * N, 2);
  buffer c_tapeless = random_buffer(M * N, 3), c_blas = random_buffer(M * N, 4);
  const double flop = 2.0 * M * N * K;

  char shape[64];
  std::snprintf(shape, sizeof shape, "%zux%zux%zu %s%s", M, K, N, op_name(OpA), op_name(OpB));
  benchmark bench(shape);
  bench.add("tapeless", [&](std::uint64_t) {
    simd::gemm<M, K, N, OpA, OpB>(a.get(), b.get(), c_tapeless.get());
    clobber_memory();
  });
#ifdef TAPELESS_BENCH_OPENBLAS
  bench.add("openblas", [&](std::uint64_t) {
    cblas_sgemm(CblasRowMajor, OpA == op::none ? CblasNoTrans : CblasTrans,
                OpB == op::none ? CblasNoTrans : CblasTrans, int(M), int(N), int(K), 1.f, a.get(),
                int(OpA == op::none ? K : M), b.get(), int(OpB == op::none ? N : K), 0.f, c_blas.get(), int(N));
    clobber_memory();
  });
#endif
  bench.add("fma peak", peak{});
  bench.run();

  const summary t = bench.time("tapeless");
  summary share = bench.ratio("fma peak", "tapeless");  // (peak time) / (tapeless time), round by round
  const double scale = 100 * flop / peak::flop;
  share = {share.median * scale, share.min * scale, share.max * scale};
  std::printf("| %-9s %-28s | %9.2f | %6.1f | %s |", what, shape, t.median / 1e3, flop / t.median,
              share.format(0).c_str());
#ifdef TAPELESS_BENCH_OPENBLAS
  // Do the results agree? (Summation orders differ: compare to a relative bound.)
  double worst = 0;
  for (std::size_t i = 0; i < M * N; ++i)
    worst = std::fmax(worst, std::fabs(c_tapeless[i] - c_blas[i]) / (1.0 + std::fabs(c_blas[i])));
  const summary o = bench.time("openblas");
  std::printf(" %9.2f | %6.1f | %s |%s\n", o.median / 1e3, flop / o.median,
              bench.ratio("openblas", "tapeless").format(2).c_str(), worst > 1e-4 ? " RESULTS DIFFER" : "");
#else
  std::printf(" - | - | - |\n");
#endif
  std::fflush(stdout);
}

// One row of a table of two forms of a product, timed in the same
// interleaved rounds: each one's median and the second's time over the
// first's, round by round.
template <class First, class Second>
void time_two_forms(const char* what, const char* shape, const char* first_name, First first,
                    const char* second_name, Second second) {
  benchmark bench(shape);
  bench.add(first_name, [&](std::uint64_t) {
    first();
    clobber_memory();
  });
  bench.add(second_name, [&](std::uint64_t) {
    second();
    clobber_memory();
  });
  bench.run();
  const summary a = bench.time(first_name), b = bench.time(second_name);
  std::printf("| %-18s %-16s | %9.2f | %9.2f | %s |\n", what, shape, a.median / 1e3, b.median / 1e3,
              bench.ratio(second_name, first_name).format(3).c_str());
  std::fflush(stdout);
}

// One row of the epilogue table: X W^T alone and with a linear layer's bias
// and relu in its epilogue (what a compiled program's forward runs), and
// what the epilogue adds.
template <std::size_t M, std::size_t K, std::size_t N>
void compare_epilogue(const char* what) {
  const buffer x = random_buffer(M * K, 1), w = random_buffer(N * K, 2), bias = random_buffer(N, 3);
  buffer plain = random_buffer(M * N, 4), fused = random_buffer(M * N, 5);
  const auto bias_relu = [&](auto v, auto at) { return xsimd::max(v + at.load(bias.get() + at.col), decltype(v)(0)); };
  char shape[64];
  std::snprintf(shape, sizeof shape, "%zux%zux%zu NT", M, K, N);
  time_two_forms(
      what, shape,
      "product", [&] { simd::gemm<M, K, N, op::none, op::transpose>(x.get(), w.get(), plain.get()); },
      "with bias and relu",
      [&] { simd::gemm<M, K, N, op::none, op::transpose>(x.get(), w.get(), fused.get(), bias_relu); });
}

// One row of the alignment table: X W^T with X on a cache line and 16 bytes
// past one (a span into a std::vector). The build's target picks whether a
// misaligned X is read in place or copied to aligned rows first
// (simd/detail/target_cpu.hpp); -DTAPELESS_SPLIT_LOADS_ARE_SLOW=0 or 1
// builds the other form.
template <std::size_t M, std::size_t K, std::size_t N>
void compare_alignment(const char* what) {
  const buffer x = random_buffer(M * K + 16, 1), w = random_buffer(N * K, 2);
  buffer c = random_buffer(M * N, 4);
  char shape[64];
  std::snprintf(shape, sizeof shape, "%zux%zux%zu NT", M, K, N);
  time_two_forms(
      what, shape,
      "aligned", [&] { simd::gemm<M, K, N, op::none, op::transpose>(x.get(), w.get(), c.get()); },
      "16 bytes off", [&] { simd::gemm<M, K, N, op::none, op::transpose>(x.get() + 4, w.get(), c.get()); });
}

}  // namespace

int main() {
#ifdef TAPELESS_BENCH_OPENBLAS
  openblas_set_num_threads(1);
  const char* core = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS: %s; core %s (OPENBLAS_CORETYPE=%s)\n", openblas_get_config(), openblas_get_corename(),
              core ? core : "unset");
#endif
  std::printf("tapeless arch: %s. Medians over interleaved repetitions, (min-max) over the rounds.\n",
              xsimd::default_arch::name());
  const summary p = fma_peak_gflops<xsimd::default_arch>("fma peak");
  std::printf("float32 FMA peak alone (%s): %s GFLOP/s\n\n", xsimd::default_arch::name(), p.format(1).c_str());
  std::printf("| what, MxKxN, op(A) op(B) | tapeless us | GFLOP/s | %% of FMA peak | OpenBLAS us | GFLOP/s | "
              "speed vs OpenBLAS |\n|---|---:|---:|---:|---:|---:|---:|\n");

  // The MLP 784-256-128-10 at batch 64; layer l has W [out, in] as PyTorch stores it.
  compare<64, 784, 256, op::none, op::transpose>("fc1 X W^T");
  compare<64, 256, 128, op::none, op::transpose>("fc2 X W^T");
  compare<64, 128, 10, op::none, op::transpose>("fc3 X W^T");
  compare<64, 256, 784, op::none, op::none>("fc1 dY W");
  compare<64, 128, 256, op::none, op::none>("fc2 dY W");
  compare<64, 10, 128, op::none, op::none>("fc3 dY W");
  compare<256, 64, 784, op::transpose, op::none>("fc1 dY^T X");
  compare<128, 64, 256, op::transpose, op::none>("fc2 dY^T X");
  compare<10, 64, 128, op::transpose, op::none>("fc3 dY^T X");
  // Tiny: the 16-32-32-1 MLP at batch 1 and 32.
  compare<1, 16, 32, op::none, op::transpose>("tiny");
  compare<1, 16, 32, op::none, op::none>("tiny");
  compare<32, 32, 32, op::none, op::transpose>("tiny");
  compare<32, 32, 32, op::none, op::none>("tiny");
  compare<32, 32, 32, op::transpose, op::none>("tiny");
  // The tiny transformer's products whose B^T is packed by block transposes
  // (k short): its projections at batch 32 x 64 positions and at 64 positions,
  // and one head's scores Q K^T.
  compare<2048, 64, 128, op::none, op::transpose>("transformer X W^T");
  compare<2048, 64, 64, op::none, op::transpose>("transformer X W^T");
  compare<64, 64, 128, op::none, op::transpose>("transformer X W^T");
  compare<64, 16, 64, op::none, op::transpose>("transformer Q K^T");

  // The epilogue's cost: X W^T alone and as relu(X W^T + b).
  std::printf("\n| layer, MxKxN | product us | with bias and relu us | time ratio |\n|---|---:|---:|---:|\n");
  compare_epilogue<64, 784, 256>("W2 fc1");
  compare_epilogue<64, 256, 128>("W2 fc2");
  compare_epilogue<64, 3136, 128>("W5 fc1");
  compare_epilogue<64, 128, 64>("64 -> 64");
  compare_epilogue<100, 96, 48>("96 -> 48");

  std::printf("\nX 16 bytes off a cache line: %s\n",
              simd::detail::split_loads_are_slow ? "copied to aligned rows first" : "read in place");
  std::printf("\n| layer, MxKxN | X aligned us | X 16 bytes off us | time ratio |\n|---|---:|---:|---:|\n");
  compare_alignment<64, 784, 256>("W2 fc1");
  compare_alignment<64, 256, 128>("W2 fc2");
  compare_alignment<32, 16, 32>("W1 fc1, batch 32");
}
