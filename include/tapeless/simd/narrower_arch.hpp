#pragma once
// fitting_arch<T, Arch, Width>: the instruction set a loop over rows of
// Width elements should run on. Arch itself when its batches of T are no
// wider than Width; otherwise the narrower x86 instruction set the build
// also enables (AVX-512 -> AVX2 with FMA -> SSE4.2 with FMA) whose batches
// fit, so that a row of 8 floats on an AVX-512 machine is one AVX2 batch and
// not 8 scalar steps with libm's exp and tanh (a GRU of hidden size 8 ran
// 5.7 times slower than a SIMD loop by hand: bench/results/streaming.md).
// Rows narrower than every batch keep the narrowest set found.

#include <tapeless/simd/detail/xsimd.hpp>

#include <cstddef>
#include <type_traits>

namespace tapeless::simd {

namespace detail {

// The instruction set with half the register width of Arch, or void.
template <class Arch>
struct half_width_arch {
  using type = void;
};

#if XSIMD_WITH_AVX512F
template <class Arch>
  requires std::is_base_of_v<xsimd::avx512f, Arch>
struct half_width_arch<Arch> {
#if XSIMD_WITH_FMA3_AVX2
  using type = xsimd::fma3<xsimd::avx2>;
#elif XSIMD_WITH_AVX2
  using type = xsimd::avx2;
#else
  using type = void;
#endif
};
#endif

#if XSIMD_WITH_AVX
template <class Arch>
  requires std::is_base_of_v<xsimd::avx, Arch>
struct half_width_arch<Arch> {
#if XSIMD_WITH_FMA3_SSE
  using type = xsimd::fma3<xsimd::sse4_2>;
#elif XSIMD_WITH_SSE4_2
  using type = xsimd::sse4_2;
#else
  using type = void;
#endif
};
#endif

template <class T, class Arch, std::size_t Width>
struct fitting_arch {
  using half = typename half_width_arch<Arch>::type;
  using type = typename std::conditional_t<(xsimd::batch<T, Arch>::size <= Width || std::is_void_v<half>),
                                           std::type_identity<Arch>, fitting_arch<T, half, Width>>::type;
};

}  // namespace detail

template <class T, class Arch, std::size_t Width>
using fitting_arch = typename detail::fitting_arch<T, Arch, Width>::type;

}  // namespace tapeless::simd
