#pragma once
// The one loop every elementwise kernel runs on: a SIMD body over whole
// batches, then a scalar tail. simd::map and simd::sum are built on it; a new
// elementwise kernel should be too, never a hand-rolled copy.

#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/simd/detail/forced_inlining.hpp>

namespace tapeless::simd {

// The width of one step of a loop body: Width lanes (a batch), or 1 (the tail).
template <std::size_t Width>
using width = std::integral_constant<std::size_t, Width>;

// Which of the Unroll independent chains a step belongs to (0 in the tail),
// so that a reduction can keep one accumulator per chain.
template <std::size_t Slot>
using slot = std::integral_constant<std::size_t, Slot>;

// For i in [0, n): calls body(i, width<Width>{}, slot<u>{}) on whole batches,
// Unroll of them per trip while they last, then body(i, width<1>{}, slot<0>{})
// on each of the remaining n % Width elements. The body sees every index
// exactly once, in increasing order within each kind of step.
template <std::size_t Width, std::size_t Unroll = 1, class Body>
TAPELESS_ALWAYS_INLINE inline void fused_loop(std::size_t n, Body&& body) noexcept {
  static_assert(Width >= 1 && Unroll >= 1, "tl::simd::fused_loop<Width, Unroll>: both must be at least 1");
  // The ends computed up front (not i + Width <= n), so that the compiler
  // knows the trip counts and reasons about no overflow.
  [[maybe_unused]] const std::size_t unrolled_end = n / (Unroll * Width) * (Unroll * Width);
  const std::size_t body_end = n / Width * Width;
  std::size_t i = 0;
  if constexpr (Unroll > 1) {
    for (; i < unrolled_end; i += Unroll * Width)
      [&]<std::size_t... U>(std::index_sequence<U...>) {
        (body(i + U * Width, width<Width>{}, slot<U>{}), ...);
      }(std::make_index_sequence<Unroll>{});
  }
  if constexpr (Width > 1)
    for (; i < body_end; i += Width) body(i, width<Width>{}, slot<0>{});
  for (; i < n; ++i) body(i, width<1>{}, slot<0>{});
}

}  // namespace tapeless::simd
