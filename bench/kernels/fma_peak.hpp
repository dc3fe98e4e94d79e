#pragma once
// Single-core FMA peak: chains of independent fused multiply-adds in
// registers, no memory traffic. Enough chains (24) to cover the FMA latency
// on every pipe; the multiplier and addend keep every value finite.

#include "harness.hpp"

#include <xsimd/xsimd.hpp>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace tapeless::bench {

// One call of the peak loop on Arch: fma_peak<Arch>::flop float32 FLOP.
template <class Arch>
struct fma_peak {
  using batch = xsimd::batch<float, Arch>;
  static constexpr std::size_t chains = 24, steps = 256;
  static constexpr double flop = 2.0 * batch::size * chains * steps;

  void operator()(std::uint64_t i) const {
    batch acc[chains];
    for (std::size_t c = 0; c < chains; ++c) acc[c] = batch(float(i % 7 + c) * 1e-3f);
    const batch mul(0.999f), add(1e-4f);
    do_not_optimize(mul);
    do_not_optimize(add);
    for (std::size_t s = 0; s < steps; ++s)  // the chains unrolled, so that they live in registers
      [&]<std::size_t... C>(std::index_sequence<C...>) {
        ((acc[C] = xsimd::fma(acc[C], mul, add)), ...);
      }(std::make_index_sequence<chains>{});
    batch total = acc[0];
    for (std::size_t c = 1; c < chains; ++c) total += acc[c];
    do_not_optimize(total);
  }
};

// GFLOP/s of the peak loop on Arch, median over the harness's repetitions.
template <class Arch>
summary fma_peak_gflops(const char* title) {
  benchmark b(title);
  b.add("fma", fma_peak<Arch>{});
  b.run();
  const summary t = b.time("fma");  // ns per call
  return {fma_peak<Arch>::flop / t.median, fma_peak<Arch>::flop / t.max, fma_peak<Arch>::flop / t.min};
}

}  // namespace tapeless::bench
