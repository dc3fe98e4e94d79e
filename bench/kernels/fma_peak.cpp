// Single-core float32 FMA peak of this machine: the default instruction set
// of the build, and AVX2 with FMA where the build enables more.
//
//   taskset -c 0 ./kernels_fma_peak
#include "fma_peak.hpp"

#include <cstdio>

int main() {
  using namespace tapeless::bench;
  std::printf("float32 FMA peak, one core: median GFLOP/s (min-max over the repetitions)\n");
  std::printf("  %-12s %s\n", xsimd::default_arch::name(),
              fma_peak_gflops<xsimd::default_arch>("fma peak").format(1).c_str());
  if constexpr (xsimd::fma3<xsimd::avx2>::supported() &&
                xsimd::default_arch::version() > xsimd::fma3<xsimd::avx2>::version())
    std::printf("  %-12s %s\n", "fma3+avx2", fma_peak_gflops<xsimd::fma3<xsimd::avx2>>("fma peak avx2").format(1).c_str());
}
