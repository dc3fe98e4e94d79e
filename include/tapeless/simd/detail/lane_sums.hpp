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
//
// float with AVX-512 or AVX2 (16 or 8 lanes) takes another tree of as many
// instructions, most of them within 128-bit lanes: two levels of unpacks
// fold each batch's four lanes of a 128-bit lane (pairing batches 0 with 2
// and 1 with 3, so the sums come out in order), then 128-bit shuffles fold
// the 128-bit lanes. Cross-lane permutes are the expensive ones on Zen 5:
// one more vpermt2ps tree of 16 batches cost the W1 training step at batch
// 1 15 ns; dense 16x16 read as [out, in] went 6.5 -> 5.5 ns with this tree
// (bench/results/batch1.md).

#include <tapeless/simd/detail/forced_inlining.hpp>
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
TAPELESS_ALWAYS_INLINE inline Batch fold_pair_two_sources(const Batch& a, const Batch& b,
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
TAPELESS_ALWAYS_INLINE inline Batch fold_pair(const Batch& a, const Batch& b) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (has_two_source_permute<Batch>) return fold_pair_two_sources<H>(a, b, std::make_index_sequence<Batch::size>{});
#endif
  const auto low = low_lanes<Batch, H>();
  return xsimd::select(low, a, b) + xsimd::swizzle(xsimd::select(low, b, a), swap_lanes<Batch, H>());
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

// Float batches of 16 lanes (AVX-512) or 8 (AVX, AVX2) take the tree below.
template <class Batch>
inline constexpr bool has_in_lane_float_tree =
#if XSIMD_WITH_AVX512F || XSIMD_WITH_AVX
    std::is_same_v<typename Batch::value_type, float> &&
    (
#if XSIMD_WITH_AVX512F
        std::is_base_of_v<xsimd::avx512f, typename Batch::arch_type> ||
#endif
        (std::is_base_of_v<xsimd::avx, typename Batch::arch_type> && Batch::size == 8));
#else
    false;
#endif

#if XSIMD_WITH_AVX512F || XSIMD_WITH_AVX
TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN
// [a0 + a2, b0 + b2, a1 + a3, b1 + b3] in every 128-bit lane. (Functions,
// not lambdas: g++ gives up inlining lambdas in large unrolled bodies.)
template <class Batch>
TAPELESS_ALWAYS_INLINE inline Batch unpack_fold(const Batch& a, const Batch& b) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (Batch::size == 16)
    return Batch(_mm512_unpacklo_ps(a, b)) + Batch(_mm512_unpackhi_ps(a, b));
  else
#endif
    return Batch(_mm256_unpacklo_ps(a, b)) + Batch(_mm256_unpackhi_ps(a, b));
}

// Four batches to one: lane j of 128-bit lane q is the sum of lanes
// 4q .. 4q + 3 of z[j]. Unpacking z0 with z2 and z1 with z3 first leaves the
// four sums in batch order.
template <class Batch>
TAPELESS_ALWAYS_INLINE inline Batch quarter_sums(const Batch* z) noexcept {
  return unpack_fold(unpack_fold(z[0], z[2]), unpack_fold(z[1], z[3]));
}

#if XSIMD_WITH_AVX512F
// [a.q0 + a.q1, a.q2 + a.q3, b.q0 + b.q1, b.q2 + b.q3] over 128-bit lanes q.
template <class Batch>
TAPELESS_ALWAYS_INLINE inline Batch quarter_fold(const Batch& a, const Batch& b) noexcept {
  return Batch(_mm512_shuffle_f32x4(a, b, 0x88)) + Batch(_mm512_shuffle_f32x4(a, b, 0xDD));
}
#endif

template <class Batch>
TAPELESS_ALWAYS_INLINE inline Batch in_lane_float_tree(const Batch* z) noexcept {
  if constexpr (Batch::size == 16) {
#if XSIMD_WITH_AVX512F
    return quarter_fold(quarter_fold(quarter_sums(z), quarter_sums(z + 4)),
                        quarter_fold(quarter_sums(z + 8), quarter_sums(z + 12)));
#endif
  } else {
    const Batch lo = quarter_sums(z), hi = quarter_sums(z + 4);
    return Batch(_mm256_permute2f128_ps(lo, hi, 0x20)) + Batch(_mm256_permute2f128_ps(lo, hi, 0x31));
  }
}
TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END
#endif

template <std::size_t H, class Batch, std::size_t... P>
TAPELESS_ALWAYS_INLINE inline void fold_level(Batch* z, std::index_sequence<P...>) noexcept {
  ((z[P] = fold_pair<H>(z[2 * P], z[2 * P + 1])), ...);
}

template <class Batch, std::size_t... Level>
TAPELESS_ALWAYS_INLINE inline Batch lane_sums(Batch* z, std::index_sequence<Level...>) noexcept {
  // Level i folds over bit 2^i, leaving W >> (i + 1) batches.
  (fold_level<(std::size_t{1} << Level)>(z, std::make_index_sequence<(Batch::size >> (Level + 1))>{}), ...);
  return z[0];
}

// z holds Batch::size batches (overwritten); returns their lane sums, in order.
template <class Batch>
TAPELESS_ALWAYS_INLINE inline Batch lane_sums(Batch* z) noexcept {
  constexpr std::size_t w = Batch::size;
  static_assert((w & (w - 1)) == 0, "tl::simd: lane_sums needs a power-of-two batch size");
  constexpr std::size_t levels = std::bit_width(w) - 1;
  if constexpr (levels == 0)
    return z[0];
#if XSIMD_WITH_AVX512F || XSIMD_WITH_AVX
  else if constexpr (has_in_lane_float_tree<Batch>)
    return in_lane_float_tree(z);
#endif
  else
    return lane_sums(z, std::make_index_sequence<levels>{});
}

}  // namespace tapeless::simd::detail
