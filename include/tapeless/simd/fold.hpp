#pragma once
// simd::fold: the reduction loop. Folds value(i, step) over i in [0, n) on
// simd::fused_loop, keeping fold_chains independent batch accumulators (so
// each combination overlaps the others instead of waiting out the latency of
// the one before: about 4 cycles an add, where the loads and the fused tree
// take one or two) and one scalar for the tail. simd::sum and the compiled
// programs' reductions run on it.
//
//   auto folded = simd::fold<V>(n, T(0), [&](std::size_t i, auto step) { ... }, plus);
//   T total = folded.join_lanes(plus);  // chains, then lanes, then the tail

#include <cstddef>

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::simd {

// Four accumulators cover the add latency at one add per cycle; more only
// lengthen the final combination.
inline constexpr std::size_t fold_chains = 4;

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// A fold's result before its lanes are combined: the chains joined into one
// batch, and the scalar tail.
template <class V, class T>
struct folded {
  V chains;
  T tail;

  // Every lane and the tail combined, lane 0 first.
  template <class Combine>
  TAPELESS_ALWAYS_INLINE T join_lanes(Combine&& combine) const noexcept {
    alignas(V::arch_type::alignment()) T lanes[V::size];
    chains.store_aligned(lanes);
    T result = tail;
    for (std::size_t l = 0; l < V::size; ++l) result = combine(result, lanes[l]);
    return result;
  }
};

// value(i, width<V::size>) gives a V, value(i, width<1>) a T; combine(a, b)
// takes two of either. start is the identity of combine.
template <class V, class T, class Value, class Combine>
TAPELESS_ALWAYS_INLINE inline folded<V, T> fold(std::size_t n, T start, Value&& value,
                                                Combine&& combine) noexcept {
  static_assert(fold_chains == 4, "simd::fold joins its chains pairwise below: update that line too");
  V chain[fold_chains] = {V(start), V(start), V(start), V(start)};
  T tail = start;
  fused_loop<V::size, fold_chains>(n, [&](std::size_t i, auto step, auto which) {
    if constexpr (decltype(step)::value == 1)
      tail = combine(tail, value(i, step));
    else
      chain[decltype(which)::value] = combine(chain[decltype(which)::value], value(i, step));
  });
  return {combine(combine(chain[0], chain[1]), combine(chain[2], chain[3])), tail};
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
