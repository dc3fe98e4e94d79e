#pragma once
// The two lane operations the transpose-like networks (lane_sums, transpose)
// are built from, on any instruction set: the mask of lanes whose index has
// bit h clear, and the permutation that swaps lane l with lane l xor h.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace tapeless::simd::detail {

template <class Batch>
using lane_index_type = std::conditional_t<sizeof(typename Batch::value_type) == 8, std::uint64_t, std::uint32_t>;

// Lanes l with bit h clear, as a mask. Built by comparing a constant loaded
// from memory (hoisted out of loops) rather than through xsimd's
// batch_bool_constant, whose conversion GCC 12 leaves as a call in large
// kernels, even under flatten.
template <class Batch, std::size_t H, std::size_t... L>
TAPELESS_ALWAYS_INLINE inline typename Batch::batch_bool_type low_lanes(std::index_sequence<L...>) noexcept {
  using T = typename Batch::value_type;
  alignas(64) static constexpr T pattern[] = {((L & H) == 0 ? T(1) : T(0))...};
  return Batch::load_aligned(pattern) != Batch(T(0));
}

template <class Batch, std::size_t H>
TAPELESS_ALWAYS_INLINE inline typename Batch::batch_bool_type low_lanes() noexcept {
  return low_lanes<Batch, H>(std::make_index_sequence<Batch::size>{});
}

// The permutation l -> l xor h, for xsimd::swizzle.
template <class Batch, std::size_t H, std::size_t... L>
constexpr auto swap_lanes(std::index_sequence<L...>) noexcept {
  using index = xsimd::batch<lane_index_type<Batch>, typename Batch::arch_type>;
  return xsimd::batch_constant<index, static_cast<lane_index_type<Batch>>(L ^ H)...>{};
}

template <class Batch, std::size_t H>
constexpr auto swap_lanes() noexcept {
  return swap_lanes<Batch, H>(std::make_index_sequence<Batch::size>{});
}

}  // namespace tapeless::simd::detail
