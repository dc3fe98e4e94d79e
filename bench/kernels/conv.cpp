// tl::simd::conv2d and its gradients, float32, one thread, on the
// convolution layers of a LeNet-like CNN at batch 64 (and a depthwise layer, also at batch 8, and MobileNet's wide one),
// each with both kernels (im2col + GEMM tiles, direct loops) so that
// conv2d_plan's choice can be checked against the clock. Prints a markdown
// table: time per call, GFLOP/s, and the percentage of the single-core FMA
// peak (the peak loop timed in the same interleaved rounds, ratio taken
// round by round), and the best round of each against the best round of the
// peak loop (on a shared machine, the least disturbed figure). FLOP: 2 per multiply-add of the forward pass; each
// gradient does as many.
//
// Beside each pass, in the same rounds, a memory roofline: a loop that moves
// the bytes the pass must move and does nothing else (forward and input
// gradient: one tensor of the input's size read and one of the output's size
// written, a copy; weight gradient: the input and the output gradient read, a
// sum). Its row gives its time, its GB/s, and the % of the FMA peak the pass
// could reach if it ran at that speed; each kernel's last column says how
// close it comes to it (the roofline loop's time over the kernel's).
//
//   taskset -c 0 ./kernels_conv
//   TAPELESS_BENCH_ARCH=avx2 ...   (the AVX2 + FMA kernels on an AVX-512 machine)
//   TAPELESS_BENCH_LAYERS=depthwise ...   (only the layers whose name contains it)
//   bench/kernels/run_conv.sh <build dir>   (both, as bench/results/conv_kernels.md reports them)

#include "fma_peak.hpp"
#include "harness.hpp"

#include <tapeless/simd/conv2d.hpp>
#include <tapeless/simd/pool2d.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// The memory rooflines: dst = src (the bytes of a forward pass or an input
// gradient; where the sizes differ, the rest of the larger tensor is zeroed
// or summed), and the sum of a and b (those of a weight gradient).
template <class Arch>
float sum_of(const float* p, std::size_t n) {
  using batch = xsimd::batch<float, Arch>;
  batch acc[4] = {batch(0.f), batch(0.f), batch(0.f), batch(0.f)};
  float tail = 0;
  std::size_t i = 0;
  for (; i + 4 * batch::size <= n; i += 4 * batch::size)
    for (std::size_t u = 0; u < 4; ++u) acc[u] += batch::load_unaligned(p + i + u * batch::size);
  for (; i < n; ++i) tail += p[i];
  return xsimd::hadd(acc[0] + acc[1] + acc[2] + acc[3]) + tail;
}

template <class Arch>
void copy(const float* src, std::size_t src_size, float* dst, std::size_t dst_size) {
  using batch = xsimd::batch<float, Arch>;
  const std::size_t n = std::min(src_size, dst_size);
  std::size_t i = 0;
  for (; i + batch::size <= n; i += batch::size) batch::load_unaligned(src + i).store_unaligned(dst + i);
  for (; i < n; ++i) dst[i] = src[i];
  for (; i + batch::size <= dst_size; i += batch::size) batch(0.f).store_unaligned(dst + i);
  for (; i < dst_size; ++i) dst[i] = 0;
  if (src_size > n) do_not_optimize(sum_of<Arch>(src + n, src_size - n));
}

template <class Arch>
float read_two(const float* a, std::size_t a_size, const float* b, std::size_t b_size) {
  return sum_of<Arch>(a, a_size) + sum_of<Arch>(b, b_size);
}

// TAPELESS_BENCH_LAYERS=depthwise (any part of a layer's name): only those layers, no pooling.
bool wanted(const char* layer) {
  const char* only = std::getenv("TAPELESS_BENCH_LAYERS");
  return only == nullptr || std::string_view(layer).find(only) != std::string_view::npos;
}

enum class pass { forward, input_gradient, weight_gradient };
const char* pass_name(pass p) {
  return p == pass::forward ? "forward" : p == pass::input_gradient ? "input gradient" : "weight gradient";
}

// One table row per pass and kernel of the shape.
template <simd::conv2d_shape S, class Arch>
void measure(const char* layer) {
  if (!wanted(layer)) return;
  using peak = fma_peak<Arch>;
  const buffer x = random_buffer(S.input_size(), 1), w = random_buffer(S.weight_size(), 2),
               dy = random_buffer(S.output_size(), 3);
  buffer y = random_buffer(S.output_size(), 4), dx = random_buffer(S.input_size(), 5),
         dw = random_buffer(S.weight_size(), 6);
  constexpr bool rows = simd::detail::depthwise_rows_apply<S>;
  constexpr std::size_t scratch_bytes = std::max(
      {simd::conv2d_scratch_bytes<S, float, Arch, conv2d_algorithm::im2col_gemm>(),
       simd::conv2d_scratch_bytes<S, float, Arch, conv2d_algorithm::direct>(),
       simd::conv2d_scratch_bytes<S, float, Arch, rows ? conv2d_algorithm::depthwise_rows : conv2d_algorithm::direct>()});
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
    if constexpr (rows) add.template operator()<conv2d_algorithm::depthwise_rows>("depthwise rows");
    bench.add("fma peak", peak{});
    const bool reads_two = p == pass::weight_gradient;
    const char* roofline = reads_two ? "memory: read x, dy" : "memory: copy";
    const std::size_t bytes = sizeof(float) * (S.input_size() + S.output_size());
    bench.add(roofline, [&](std::uint64_t) {
      if (reads_two)
        do_not_optimize(read_two<Arch>(x.get(), S.input_size(), dy.get(), S.output_size()));
      else if (p == pass::forward)
        copy<Arch>(x.get(), S.input_size(), y.get(), S.output_size());
      else
        copy<Arch>(dy.get(), S.output_size(), dx.get(), S.input_size());
      clobber_memory();
    });
    bench.run();
    using plan = simd::conv2d_plan<S, float, Arch>;
    const std::string_view chosen = plan::im2col ? "im2col" : plan::depthwise_rows ? "depthwise rows" : "direct";
    const double scale = 100 * S.flop() / peak::flop;
    const double best_peak = peak::flop / bench.time("fma peak").min;
    std::vector<const char*> kernels{"im2col", "direct"};
    if (rows) kernels.push_back("depthwise rows");
    for (const char* kernel : kernels) {
      const summary t = bench.time(kernel);
      summary share = bench.ratio("fma peak", kernel);
      share = {share.median * scale, share.min * scale, share.max * scale};
      const summary over_roofline = bench.ratio(kernel, roofline);  // kernel time / roofline time, round by round
      // Best rounds: the fastest round of each against the fastest round of
      // the peak loop, the figure least disturbed by other work on the core.
      const double best = 100 * (S.flop() / t.min) / best_peak;
      std::printf("| %s | %s | %s%s | %9.1f | %6.1f | %s | %5.1f | %3.0f | %3.0f |\n", layer, pass_name(p), kernel,
                  kernel == chosen ? " (plan)" : "", t.median / 1e3, S.flop() / t.median, share.format(0).c_str(),
                  S.flop() / t.min, best, 100 / over_roofline.median);
    }
    // The roofline row: GB/s where the kernels have GFLOP/s, and the % of the
    // FMA peak this pass would reach at the roofline's speed.
    const summary t = bench.time(roofline);
    summary share = bench.ratio("fma peak", roofline);
    share = {share.median * scale, share.min * scale, share.max * scale};
    std::printf("| %s | %s | %s, %.1f MB | %9.1f | %5.1f GB/s | %s | %5.1f GB/s | %3.0f | 100 |\n", layer,
                pass_name(p), roofline, bytes / 1e6, t.median / 1e3, bytes / t.median, share.format(0).c_str(),
                bytes / t.min, 100 * (S.flop() / t.min) / best_peak);
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
  std::printf("| layer (batch 64 unless named) | pass | kernel | us | GFLOP/s | %% of FMA peak | best round GFLOP/s | "
              "best, %% of best peak | %% of memory roofline |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 1, .height = 28, .width = 28, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1},
          Arch>("conv1 1->32 3x3 pad 1, 28x28");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 32, .height = 14, .width = 14, .out_channels = 64,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1},
          Arch>("conv2 32->64 3x3 pad 1, 14x14");
  measure<simd::conv2d_shape{.batch = 64, .in_channels = 32, .height = 14, .width = 14, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1, .groups = 32},
          Arch>("depthwise 32 3x3 pad 1, 14x14");
  // The same layer at batch 8: its 0.4 MB stay in L2 where batch 64's 3.2 MB
  // come from L3, so the two say how much of a pass is the streaming.
  measure<simd::conv2d_shape{.batch = 8, .in_channels = 32, .height = 14, .width = 14, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1, .groups = 32},
          Arch>("depthwise 32 3x3 pad 1, 14x14, batch 8");
  // MobileNet's first depthwise layer: rows of 112 are 7 registers of 16 floats
  // (14 of 8), most of them interior chunks, which the row kernels run in a loop.
  measure<simd::conv2d_shape{.batch = 1, .in_channels = 32, .height = 112, .width = 112, .out_channels = 32,
                             .kernel_height = 3, .kernel_width = 3, .padding = 1, .groups = 32},
          Arch>("depthwise 32 3x3 pad 1, 112x112, batch 1");
  if (std::getenv("TAPELESS_BENCH_LAYERS") != nullptr) return;
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
