// tl::simd::map and tl::simd::sum against the plain loops g++ vectorizes by
// itself, on arrays far larger than the caches: a fused elementwise kernel
// should run at memory bandwidth. Reports GB/s counted as STREAM does (bytes
// the loop reads and writes, not the write-allocate reads).
//
//   taskset -c 0 ./kernels_map

#include "harness.hpp"

#include <tapeless/simd/map.hpp>
#include <tapeless/simd/sum.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace simd = tapeless::simd;
using namespace tapeless::bench;

namespace {

constexpr std::size_t n = std::size_t{1} << 23;  // 32 MiB per float array

struct aligned_free {
  void operator()(float* p) const { std::free(p); }
};
using buffer = std::unique_ptr<float[], aligned_free>;

buffer make_buffer(float value) {
  buffer b(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))));
  for (std::size_t i = 0; i < n; ++i) b[i] = value + float(i % 13) * 1e-3f;
  return b;
}

void report(benchmark& b, const char* a, const char* plain, double bytes) {
  const summary ta = b.time(a), tp = b.time(plain);
  std::printf("%-40s tapeless %6.1f GB/s  plain loop %6.1f GB/s  speed ratio %s\n", b.title().c_str(),
              bytes / ta.median, bytes / tp.median, b.ratio(plain, a).format(2).c_str());
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::printf("arch: %s, %zu floats per array; medians over interleaved repetitions\n",
              xsimd::default_arch::name(), n);
  buffer x = make_buffer(0.5f), y = make_buffer(0.25f), z = make_buffer(0.f);

  {
    benchmark b("triad z = x + s * y");
    b.add("tapeless", [&](std::uint64_t i) {
      const float s = 1.f + float(i % 3) * 1e-3f;
      simd::map(n, [s](auto a, auto c) { return a + s * c; }, simd::in(x.get(), y.get()), simd::out(z.get()));
      clobber_memory();
    });
    b.add("plain", [&](std::uint64_t i) {
      const float s = 1.f + float(i % 3) * 1e-3f;
      for (std::size_t k = 0; k < n; ++k) z[k] = x[k] + s * y[k];
      clobber_memory();
    });
    b.run();
    report(b, "tapeless", "plain", 3.0 * n * sizeof(float));
  }
  {
    // Ten dependent operations per element, one pass: still memory-bound.
    benchmark b("chain of 10 ops z = p(x) (Horner, degree 5)");
    b.add("tapeless", [&](std::uint64_t) {
      simd::map(n, [](auto v) { return ((((v * 0.1f + 0.2f) * v + 0.3f) * v + 0.4f) * v + 0.5f) * v + 0.6f; },
                simd::in(x.get()), simd::out(z.get()));
      clobber_memory();
    });
    b.add("plain", [&](std::uint64_t) {
      for (std::size_t k = 0; k < n; ++k) {
        const float v = x[k];
        z[k] = ((((v * 0.1f + 0.2f) * v + 0.3f) * v + 0.4f) * v + 0.5f) * v + 0.6f;
      }
      clobber_memory();
    });
    b.run();
    report(b, "tapeless", "plain", 2.0 * n * sizeof(float));
  }
  {
    benchmark b("sum of x");
    b.add("tapeless", [&](std::uint64_t) {
      do_not_optimize(simd::sum(n, x.get()));
      clobber_memory();
    });
    b.add("plain", [&](std::uint64_t) {
      float s = 0;  // g++ keeps this loop scalar (no reassociation without -ffast-math)
      for (std::size_t k = 0; k < n; ++k) s += x[k];
      do_not_optimize(s);
      clobber_memory();
    });
    b.run();
    report(b, "tapeless", "plain", 1.0 * n * sizeof(float));
  }
}
