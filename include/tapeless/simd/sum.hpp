#pragma once
// simd::sum: the fused reduction. Sums f(in_0[i], in_1[i], ...) over i in
// [0, n) in one pass, on the same loop as simd::map:
//
//   float dot = simd::sum(n, [](auto x, auto y) { return x * y; }, simd::in(x, y));
//   float total = simd::sum(n, x);
//
// The loop is simd::fold: several independent batch accumulators (so the
// adds overlap instead of waiting on one another), the tail one scalar; they
// are added together at the end. The order of summation therefore differs from a plain
// loop's: results agree to rounding, not bit for bit.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/fold.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>
#include <tapeless/simd/map.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::simd {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Sum over i of f(in_0[i], ...). f accepts batches and scalars, as for map.
template <class Arch = xsimd::default_arch, class F, class... In>
TAPELESS_FLATTEN inline auto sum(std::size_t n, F&& f, inputs<In...> in) noexcept {
  static_assert(sizeof...(In) >= 1, "tl::simd::sum: give at least one input array: simd::in(p, ...)");
  static_assert(detail::same_lane_count<Arch, In...>,
                "tl::simd::sum: every input element type must have the same batch size (same sizeof)");
  using scalar_result = std::remove_cvref_t<decltype(f(std::declval<In>()...))>;
  using batch_result = xsimd::batch<scalar_result, Arch>;
  using first = std::tuple_element_t<0, std::tuple<In...>>;
  constexpr std::size_t batch_size = lanes<first, Arch>;
  static_assert(lanes<scalar_result, Arch> == batch_size,
                "tl::simd::sum: the callable's result type must have the batch size of its inputs");

  const auto folded = simd::fold<batch_result>(
      n, scalar_result(0),
      [&](std::size_t i, auto step) {
        constexpr std::size_t w = decltype(step)::value;
        return std::apply(
            [&](const In*... p) { return f(simd::load<detail::step_value<In, Arch, w>>(p + i)...); }, in.pointers);
      },
      [](auto a, auto b) { return a + b; });
  return xsimd::hadd(folded.chains) + folded.tail;
}

// Sum of the n elements at p.
template <class Arch = xsimd::default_arch, class T>
inline T sum(std::size_t n, const T* p) noexcept {
  return simd::sum<Arch>(n, [](auto x) { return x; }, simd::in(p));
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
