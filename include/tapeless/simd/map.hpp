#pragma once
// simd::map: the fused elementwise kernel. Reads N input arrays, applies one
// generic callable element by element (a whole batch at a time in the body, a
// scalar in the tail) and writes its M results to M output arrays, in one
// pass over memory:
//
//   simd::map(n, [](auto x, auto y) { return x * y + 1.f; },
//             simd::in(x, y), simd::out(z));
//   simd::map(n, [](auto x) { auto t = xsimd::tanh(x); return std::tuple{t, 1.f - t * t}; },
//             simd::in(x), simd::out(y, dy));
//
// The callable must accept both xsimd::batch<T, Arch> and T arguments (a
// generic lambda over xsimd's free functions does). With one output it
// returns the value; with several, anything std::get<I> reads (tuple, pair,
// array). Pointers need no alignment; n need not be a multiple of the batch
// size; outputs may alias inputs element for element (in place).

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::simd {

// The arrays a kernel reads.
template <class... T>
struct inputs {
  std::tuple<const T*...> pointers;
};

// The arrays a kernel writes.
template <class... T>
struct outputs {
  std::tuple<T*...> pointers;
};

template <class... T>
constexpr inputs<T...> in(const T*... p) noexcept {
  return {{p...}};
}

template <class... T>
constexpr outputs<T...> out(T*... p) noexcept {
  return {{p...}};
}

namespace detail {

// The value type of element type T in a step of the given width.
template <class T, class Arch, std::size_t Width>
using step_value = std::conditional_t<Width == 1, T, xsimd::batch<T, Arch>>;

template <class Arch, class... T>
inline constexpr bool same_lane_count = ((lanes<T, Arch> == lanes<std::tuple_element_t<0, std::tuple<T...>>, Arch>) && ...);

// Stores one result at p in a step of width W: a batch as it is (xsimd
// converts the element type), a scalar in a batch step broadcast to all lanes.
template <class Arch, std::size_t W, class T, class V>
TAPELESS_ALWAYS_INLINE inline void store_result(T* p, const V& v) noexcept {
  if constexpr (W > 1 && !batch_value<V>)
    simd::store(p, xsimd::batch<T, Arch>(static_cast<T>(v)));
  else
    simd::store(p, v);
}

// Stores result (one value, or a tuple-like of sizeof...(Out) values) at index i.
template <class Arch, std::size_t W, class... Out, class R, std::size_t... J>
TAPELESS_ALWAYS_INLINE inline void store_results(const std::tuple<Out*...>& p, std::size_t i, const R& result,
                                                 std::index_sequence<J...>) noexcept {
  if constexpr (sizeof...(Out) == 1)
    store_result<Arch, W>(std::get<0>(p) + i, result);
  else
    (store_result<Arch, W>(std::get<J>(p) + i, std::get<J>(result)), ...);
}

}  // namespace detail

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// out_j[i] = f(in_0[i], in_1[i], ...)_j for i in [0, n).
template <class Arch = xsimd::default_arch, class F, class... In, class... Out>
TAPELESS_FLATTEN inline void map(std::size_t n, F&& f, inputs<In...> in, outputs<Out...> out) noexcept {
  static_assert(sizeof...(In) >= 1, "tl::simd::map: give at least one input array: simd::in(p, ...)");
  static_assert(sizeof...(Out) >= 1, "tl::simd::map: give at least one output array: simd::out(p, ...)");
  static_assert(detail::same_lane_count<Arch, In..., Out...>,
                "tl::simd::map: every input and output element type must have the same batch size "
                "(same sizeof); convert in a separate map first");
  using first = std::tuple_element_t<0, std::tuple<In..., Out...>>;
  constexpr std::size_t batch_size = lanes<first, Arch>;
  fused_loop<batch_size>(n, [&](std::size_t i, auto step, auto) {
    constexpr std::size_t w = decltype(step)::value;
    auto result = std::apply(
        [&](const In*... p) { return f(simd::load<detail::step_value<In, Arch, w>>(p + i)...); },
        in.pointers);
    detail::store_results<Arch, w>(out.pointers, i, result, std::index_sequence_for<Out...>{});
  });
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
