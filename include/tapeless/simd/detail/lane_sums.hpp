#pragma once
// lane_sums(x): given as many batches as a batch has lanes, the batch whose
// lane l is the sum of all lanes of x[l]. A transpose-and-add tree: at level
// h (1, 2, 4, ...) pairs of batches are folded over lane bit h, so each level
// halves the number of batches; W - 1 folds of four instructions (two
// blends, one permute, one add) where W separate horizontal sums cost about
// ten each. Built on xsimd::select and xsimd::swizzle, so it holds on every
// instruction set; AVX-512 folds with a two-source permute (one instruction
// fewer per fold). (xsimd 8.1's own haddp returns its AVX-512 float
// sums in a permuted order, so it is not used.)

#include <tapeless/simd/detail/lane_permutes.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// AVX-512 (where the build enables it: its intrinsics exist only then).
template <class Batch>
inline constexpr bool has_two_source_permute =
#if XSIMD_WITH_AVX512F
    std::is_base_of_v<xsimd::avx512f, typename Batch::arch_type> &&
    (std::is_same_v<typename Batch::value_type, float> || std::is_same_v<typename Batch::value_type, double>);
#else
    false;
#endif

#if XSIMD_WITH_AVX512F
// Lane l of the permute is a[l ^ h] where bit h of l is clear, else b[l ^ h]
// (index + lanes: the second source); the blend takes b where bit h is set.
template <std::size_t H, class Batch, std::size_t... L>
[[gnu::always_inline]] inline Batch fold_pair_two_sources(const Batch& a, const Batch& b,
                                                          std::index_sequence<L...>) noexcept {
  using I = lane_index_type<Batch>;
  alignas(64) static constexpr I index[] = {static_cast<I>((L & H) == 0 ? (L ^ H) : Batch::size + (L ^ H))...};
  constexpr unsigned high = ((((L & H) != 0) ? 1u << L : 0u) | ...);
  const __m512i partner = _mm512_load_si512(index);
  if constexpr (std::is_same_v<typename Batch::value_type, float>)
    return Batch(_mm512_mask_blend_ps(static_cast<__mmask16>(high), a, b)) +
           Batch(_mm512_permutex2var_ps(a, partner, b));
  else
    return Batch(_mm512_mask_blend_pd(static_cast<__mmask8>(high), a, b)) +
           Batch(_mm512_permutex2var_pd(a, partner, b));
}
#endif

// Lanes with bit h clear: a[l] + a[l ^ h]; lanes with it set: b[l] + b[l ^ h].
// With AVX-512, three instructions (a blend under a constant mask, a
// two-source permute, an add) where select and swizzle take four (two
// blends, a permute, an add).
template <std::size_t H, class Batch>
[[gnu::always_inline]] inline Batch fold_pair(const Batch& a, const Batch& b) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (has_two_source_permute<Batch>) return fold_pair_two_sources<H>(a, b, std::make_index_sequence<Batch::size>{});
#endif
  const auto low = low_lanes<Batch, H>();
  return xsimd::select(low, a, b) + xsimd::swizzle(xsimd::select(low, b, a), swap_lanes<Batch, H>());
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <std::size_t H, class Batch, std::size_t... P>
[[gnu::always_inline]] inline void fold_level(Batch* z, std::index_sequence<P...>) noexcept {
  ((z[P] = fold_pair<H>(z[2 * P], z[2 * P + 1])), ...);
}

template <class Batch, std::size_t... Level>
[[gnu::always_inline]] inline Batch lane_sums(Batch* z, std::index_sequence<Level...>) noexcept {
  // Level i folds over bit 2^i, leaving W >> (i + 1) batches.
  (fold_level<(std::size_t{1} << Level)>(z, std::make_index_sequence<(Batch::size >> (Level + 1))>{}), ...);
  return z[0];
}

// z holds Batch::size batches (overwritten); returns their lane sums, in order.
template <class Batch>
[[gnu::always_inline]] inline Batch lane_sums(Batch* z) noexcept {
  constexpr std::size_t w = Batch::size;
  static_assert((w & (w - 1)) == 0, "tl::simd: lane_sums needs a power-of-two batch size");
  constexpr std::size_t levels = std::bit_width(w) - 1;
  if constexpr (levels == 0)
    return z[0];
  else
    return lane_sums(z, std::make_index_sequence<levels>{});
}

}  // namespace tapeless::simd::detail
