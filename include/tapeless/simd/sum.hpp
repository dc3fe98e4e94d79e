#pragma once
// simd::sum: the fused reduction. Sums f(in_0[i], in_1[i], ...) over i in
// [0, n) in one pass, on the same loop as simd::map:
//
//   float dot = simd::sum(n, [](auto x, auto y) { return x * y; }, simd::in(x, y));
//   float total = simd::sum(n, x);
//
// The body keeps `chains` independent batch accumulators (so the adds overlap
// instead of waiting on one another), the tail one scalar; they are added
// together at the end. The order of summation therefore differs from a plain
// loop's: results agree to rounding, not bit for bit.

#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>
#include <tapeless/simd/map.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::simd {

namespace detail {
// Four batch accumulators cover the add latency (3-4 cycles) at one add per
// cycle; more only lengthen the final combination.
inline constexpr std::size_t sum_chains = 4;
static_assert(sum_chains == 4, "simd::sum adds its chains pairwise at the end: update that line too");
}  // namespace detail

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Sum over i of f(in_0[i], ...). f accepts batches and scalars, as for map.
template <class Arch = xsimd::default_arch, class F, class... In>
[[gnu::flatten]] inline auto sum(std::size_t n, F&& f, inputs<In...> in) noexcept {
  static_assert(sizeof...(In) >= 1, "tl::simd::sum: give at least one input array: simd::in(p, ...)");
  static_assert(detail::same_lane_count<Arch, In...>,
                "tl::simd::sum: every input element type must have the same batch size (same sizeof)");
  using scalar_result = std::remove_cvref_t<decltype(f(std::declval<In>()...))>;
  using batch_result = xsimd::batch<scalar_result, Arch>;
  using first = std::tuple_element_t<0, std::tuple<In...>>;
  constexpr std::size_t batch_size = lanes<first, Arch>;
  static_assert(lanes<scalar_result, Arch> == batch_size,
                "tl::simd::sum: the callable's result type must have the batch size of its inputs");

  batch_result chain[detail::sum_chains];
  for (auto& c : chain) c = batch_result(scalar_result(0));
  scalar_result tail(0);

  fused_loop<batch_size, detail::sum_chains>(n, [&](std::size_t i, auto step, auto which) {
    constexpr std::size_t w = decltype(step)::value;
    auto value = std::apply(
        [&](const In*... p) { return f(simd::load<detail::step_value<In, Arch, w>>(p + i)...); }, in.pointers);
    if constexpr (w == 1)
      tail += static_cast<scalar_result>(value);
    else
      chain[decltype(which)::value] += value;
  });
  return xsimd::hadd((chain[0] + chain[1]) + (chain[2] + chain[3])) + tail;
}

// Sum of the n elements at p.
template <class Arch = xsimd::default_arch, class T>
inline T sum(std::size_t n, const T* p) noexcept {
  return simd::sum<Arch>(n, [](auto x) { return x; }, simd::in(p));
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
