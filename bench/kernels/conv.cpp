// tl::simd::conv2d and its gradients, float32, one thread, on the
// convolution layers of a LeNet-like CNN at batch 64 (and a depthwise layer),
// each with both kernels (im2col + GEMM tiles, direct loops) so that
// conv2d_plan's choice can be checked against the clock. Prints a markdown
// table: time per call, GFLOP/s, and the percentage of the single-core FMA
// peak (the peak loop timed in the same interleaved rounds, ratio taken
// round by round), and the best round of each against the best round of the
// peak loop (on a shared machine, the least disturbed figure). FLOP: 2 per multiply-add of the forward pass; each
// gradient does as many.
//
//   taskset -c 0 ./kernels_conv
//   TAPELESS_BENCH_ARCH=avx2 ...   (the AVX2 + FMA kernels on an AVX-512 machine)

#include "fma_peak.hpp"
#include "harness.hpp"

#include <tapeless/simd/conv2d.hpp>
#include <tapeless/simd/pool2d.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace simd = tapeless::simd;
using simd::conv2d_algorithm;
using namespace tapeless::bench;

namespace {

struct aligned_free {
  void operator()(void* p) const { std::free(p); }
};
using buffer = std::unique_ptr<float[], aligned_free>;

buffer random_buffer(std::size_t n, unsigned seed) {
  const std::size_t bytes = (n * sizeof(float) + 64) / 64 * 64;
  buffer b(static_cast<float*>(std::aligned_alloc(64, bytes)));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (std::size_t i = 0; i < n; ++i) b[i] = dist(rng);
  return b;
}

enum class pass { forward, input_gradient, weight_gradient };
const char* pass_name(pass p) {
  return p == pass::forward ? "forward" : p == pass::input_gradient ? "input gradient" : "weight gradient";
}

// One table row per pass and kernel of the shape.
template <simd::conv2d_shape S, class Arch>
void measure(const char* layer) {
  using peak = fma_peak<Arch>;
  const buffer x = random_buffer(S.input_size(), 1), w = random_buffer(S.weight_size(), 2),
               dy = random_buffer(S.output_size(), 3);
  buffer y = random_buffer(S.output_size(), 4), dx = random_buffer(S.input_size(), 5),
         dw = random_buffer(S.weight_size(), 6);
  constexpr std::size_t scratch_bytes = simd::conv2d_scratch_bytes<S, float, Arch, conv2d_algorithm::im2col_gemm>();
  const buffer scratch = random_buffer(scratch_bytes / sizeof(float) + 1, 7);

  for (pass p : {pass::forward, pass::input_gradient, pass::weight_gradient}) {
    benchmark bench(std::string(layer) + " " + pass_name(p));
    auto add = [&]<conv2d_algorithm A>(const char* name) {
      bench.add(name, [&](std::uint64_t) {
        if (p == pass::forward)
          simd::conv2d<S, Arch, A>(x.get(), w.get(), y.get(), scratch.get());
        else if (p == pass::input_gradient)
          simd::conv2d_input_gradient<S, Arch, A>(dy.get(), w.get(), dx.get(), scratch.get());
        else
          simd::conv2d_weight_gradient<S, Arch, A>(x.get(), dy.get(), dw.get(), scratch.get());
        clobber_memory();
      });
    };
    add.template operator()<conv2d_algorithm::im2col_gemm>("im2col");
    add.template operator()<conv2d_algorithm::direct>("direct");
    bench.add("fma peak", peak{});
    bench.run();
    const bool chosen_im2col = simd::conv2d_plan<S, float, Arch>::im2col;
    for (const char* kernel : {"im2col", "direct"}) {
      const summary t = bench.time(kernel);
      summary share = bench.ratio("fma peak", kernel);
      const double scale = 100 * S.flop() / peak::flop;
      share = {share.median * scale, share.min * scale, share.max * scale};
      const bool chosen = chosen_im2col == (std::string_view(kernel) == "im2col");
      // Best rounds: the fastest round of each against the fastest round of
      // the peak loop, the figure least disturbed by other work on the core.
      const double best = 100 * (S.flop() / t.min) / (peak::flop / bench.time("fma peak").min);
      std::printf("| %s | %s | %s%s | %9.1f | %6.1f | %s | %5.1f | %3.0f |\n", layer, pass_name(p), kernel,
                  chosen ? " (plan)" : "", t.median / 1e3, S.flop() / t.median, share.format(0).c_str(),
                  S.flop() / t.min, best);
    }
    std::fflush(stdout);
  }
}

// Pooling: time per call and input elements per nanosecond, forward and backward.
template <simd::pool2d_shape S, class Arch>
void measure_pool(const char* layer) {
  const buffer x = random_buffer(S.input_size(), 1), dy = random_buffer(S.output_size(), 2);
  buffer y = random_buffer(S.output_size(), 3), dx = random_buffer(S.input_size(), 4);
  std::unique_ptr<std::int32_t[]> at(new std::int32_t[S.output_size()]);
  simd::max_pool2d<S, Arch>(x.get(), y.get(), at.get());
  benchmark bench(layer);
  bench.add("max forward", [&](std::uint64_t) {
    simd::max_pool2d<S, Arch>(x.get(), y.get(), at.get());
    clobber_memory();
  });
  bench.add("max backward", [&](std::uint64_t) {
    simd::max_pool2d_backward<S, Arch>(dy.get(), at.get(), dx.get());
    clobber_memory();
  });
  bench.add("avg forward", [&](std::uint64_t) {
    simd::avg_pool2d<S, Arch>(x.get(), y.get());
    clobber_memory();
  });
  bench.add("avg backward", [&](std::uint64_t) {
    simd::avg_pool2d_backward<S, Arch>(dy.get(), dx.get());
    clobber_memory();
  });
  bench.run();
  for (const char* what : {"max forward", "max backward", "avg forward", "avg backward"}) {
    const summary t = bench.time(what);
    std::printf("| %s | %s | %9.1f (%.1f-%.1f) | %5.2f |\n", layer, what, t.median / 1e3, t.min / 1e3, t.max / 1e3,
                double(S.input_size()) / t.median);
  }
  std::fflush(stdout);
}

template <class Arch>
void run_all() {
  std::printf("arch: %s. Medians over interleaved repetitions, (min-max) over the rounds.\n", Arch::name());
  const summary p = fma_peak_gflops<Arch>("fma peak");
  std::printf("float32 FMA peak alone (%s): %s GFLOP/s\n\n", Arch::name(), p.format(1).c_str());
  std::printf("| layer (batch 64) | pass | kernel | us | GFLOP/s | %% of FMA peak | best round GFLOP/s | "
              "best, %% of best peak |\n|---|---|---|---:|---:|---:|---:|---:|\n");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 1, .height = 28, .width = 28, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1},
          Arch>("conv1 1->32 3x3 pad 1, 28x28");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 32, .height = 14, .width = 14, .out_channels = 64,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1},
          Arch>("conv2 32->64 3x3 pad 1, 14x14");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 32, .height = 14, .width = 14, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1, .groups = 32},
          Arch>("depthwise 32 3x3 pad 1, 14x14");
  std::printf("\n| pooling (batch 64) | pass | us (min-max) | input elements per ns |\n|---|---|---:|---:|\n");
  measure_pool<simd::pool2d_shape{.batch = 64, .channels = 32, .height = 28, .width = 28, .kernel = 2}, Arch>(
      "32 x 28x28, window 2");
  measure_pool<simd::pool2d_shape{.batch = 64, .channels = 64, .height = 14, .width = 14, .kernel = 2}, Arch>(
      "64 x 14x14, window 2");
}

}  // namespace

int main() {
  const char* arch = std::getenv("TAPELESS_BENCH_ARCH");
  if (arch && std::string_view(arch) == "avx2") {
    if constexpr (xsimd::default_arch::version() > xsimd::fma3<xsimd::avx2>::version())
      run_all<xsimd::fma3<xsimd::avx2>>();
    else
      run_all<xsimd::default_arch>();
  } else {
    run_all<xsimd::default_arch>();
  }
}
