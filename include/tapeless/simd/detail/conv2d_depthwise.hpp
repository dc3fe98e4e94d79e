#pragma once
// Depthwise convolution kernels (one input and one output channel per group,
// stride 1), plane by plane, vectorized along the rows. Each (image, channel)
// plane is its own convolution of one small plane (a 14 x 14 plane is 784
// bytes), so the general direct loops' per-plane work (the phase split, the
// output copied out element by element when a row is narrower than a
// register) cost more than the arithmetic. Here, for a tile of output rows:
//
// - each source row the tile reads is loaded once, straight from the input,
//   in whole registers (with AVX2 the lanes past the row's end set to zero;
//   the padding's registers and rows are zeros, never loaded);
// - its KW shifted copies are made in registers (a zero-masking valignd with
//   AVX-512, which also clears the lanes past the row; two shuffles with AVX2,
//   which loads the taps lying inside the row straight from it instead), and
//   each copy feeds the KH output rows it belongs to: KH * KW FMAs per loaded
//   row, the weights in registers.
//   Unaligned loads of each tap from a zero-bordered copy of the plane
//   instead (two in three splitting a cache line) ran 1.7x slower with
//   AVX-512, and the copy itself cost 1.3x (bench/kernels/conv.cpp);
// - a chunk that runs past the row's end is stored whole (its extra lanes land
//   on chunks still to be stored: the last chunk of a row first), except at
//   the end of the result, where only its valid lanes are written. No load
//   reaches past the end of its tensor either.
//
// The input gradient is the same correlation with the kernel turned 180
// degrees, over the output gradient padded by (K - 1) * dilation - padding;
// the weight gradient keeps accumulators per tap over a plane (two sets,
// alternating rows, with 16 lanes: weight_gradient_chains) and adds the
// plane's sums into per-channel running sums in scratch. Nothing allocates.
// Measured in bench/kernels/conv.cpp (bench/results/conv_kernels.md).

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/im2col.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/lanes.hpp>

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// The row kernels take S: depthwise (one input and one output channel per
// group), stride 1, and padding no larger than the dilated kernel's reach,
// so that the input gradient's padding (K - 1) * dilation - padding is not
// negative.
template <conv2d_shape S>
inline constexpr bool depthwise_rows_apply =
    S.group_in_channels() == 1 && S.group_out_channels() == 1 && S.stride == 1 &&
    S.padding <= (S.kernel_height - 1) * S.dilation && S.padding <= (S.kernel_width - 1) * S.dilation;

// One plane's correlation: a source plane H x W, zero-padded by PH rows and PW
// columns, read by a KH x KW kernel dilated by D, gives a result plane OH x OW.
struct plane_stencil {
  std::size_t H, W, PH, PW, KH, KW, D;
  constexpr std::size_t OH() const { return H + 2 * PH - (KH - 1) * D; }
  constexpr std::size_t OW() const { return W + 2 * PW - (KW - 1) * D; }
};

template <conv2d_shape S>
inline constexpr plane_stencil forward_stencil{S.height, S.width, S.padding, S.padding, S.kernel_height,
                                               S.kernel_width, S.dilation};
// The input gradient: the output gradient, padded so that each input position
// sees every output it fed, read by the turned kernel.
template <conv2d_shape S>
inline constexpr plane_stencil input_gradient_stencil{S.out_height(),
                                                      S.out_width(),
                                                      (S.kernel_height - 1) * S.dilation - S.padding,
                                                      (S.kernel_width - 1) * S.dilation - S.padding,
                                                      S.kernel_height,
                                                      S.kernel_width,
                                                      S.dilation};

template <std::size_t N>
using index_constant = std::integral_constant<std::size_t, N>;

// How a result chunk reads a source row: chunk K's tap kw starts at source
// column K L + kw D - PW; in registers of the row (register j: columns
// [j L, j L + L), zero outside the row), that is `registers` registers from
// first_register(K), starting lane_offset(K) + kw D lanes into them.
template <plane_stencil P, std::size_t L>
struct row_registers {
  static constexpr std::size_t source_chunks = (P.W + L - 1) / L, result_chunks = (P.OW() + L - 1) / L;
  static constexpr long first_register(std::size_t K) {
    const long column = long(K * L) - long(P.PW);
    return column >= 0 ? column / long(L) : -((-column + long(L) - 1) / long(L));
  }
  static constexpr std::size_t lane_offset(std::size_t K) {
    return std::size_t(long(K * L) - long(P.PW) - first_register(K) * long(L));
  }
  static constexpr std::size_t registers = (L - 1 + (P.KW - 1) * P.D + L - 1) / L + 1;

  // Interior chunks read only whole registers inside the row (no zeros, no
  // partial loads, no masked lanes) and store whole: their code differs only
  // by where it reads and writes, so one instantiation can serve them all, in
  // a loop (see for_each_chunk). [interior_first, interior_end) is empty (both
  // result_chunks) when fewer than two chunks qualify.
  static constexpr bool interior(std::size_t K) {
    const long first = first_register(K);
    return (K + 1) * L <= P.OW() && first >= 0 && std::size_t(first) + registers <= P.W / L;
  }
  static constexpr std::size_t interior_bound(bool first) {
    std::size_t k = 0;
    while (k < result_chunks && !interior(k)) ++k;
    const std::size_t begin = k;
    while (k < result_chunks && interior(k)) ++k;
    return k - begin < 2 ? result_chunks : first ? begin : k;
  }
  static constexpr std::size_t interior_first = interior_bound(true), interior_end = interior_bound(false);
};

// Whether a tap's copy is made in registers (AVX2 and AVX-512 float, see
// lanes_from); elsewhere each copy goes through memory.
template <class Batch>
inline constexpr bool shifts_in_registers = std::is_same_v<typename Batch::value_type, float> &&
                                            (
#if XSIMD_WITH_AVX512F
                                                std::is_base_of_v<xsimd::avx512f, typename Batch::arch_type> ||
#endif
#if XSIMD_WITH_AVX2
                                                std::is_base_of_v<xsimd::avx2, typename Batch::arch_type> ||
#endif
                                                false);

// Calls visit.template operator()<K>(k) for every result chunk k of a row, the
// last first (see store_chunk). K is the instantiation that computes chunk k:
// k itself (as an index_constant), except with Loop, where every interior
// chunk runs the first interior one's instantiation in a loop (k a run-time
// index; the code reads and writes (k - K) L elements further on). Unrolled,
// a wide row's chunks were most of these kernels' code: with SSE2's 4 floats
// (rows of 40 to 70) tests/simd/conv2d.cpp's depthwise cases took 61 s of
// g++ -O3, 31 s with the loop. The loop measured no slower on
// bench/kernels/conv.cpp's 112 x 112 layer (SSE2, AVX2 and AVX-512), except
// the AVX-512 weight gradient (63-65 against 54 us: its 18 accumulators and
// the copies fill the registers): that one keeps its chunks unrolled where
// the shifts are in registers.
template <plane_stencil P, class Batch, bool Loop, class Visit>
TAPELESS_ALWAYS_INLINE inline void for_each_chunk(Visit&& visit) noexcept {
  using layout = row_registers<P, Batch::size>;
  constexpr std::size_t chunks = layout::result_chunks;
  constexpr std::size_t first = Loop ? layout::interior_first : chunks, end = Loop ? layout::interior_end : chunks;
  [&]<std::size_t... C>(std::index_sequence<C...>) TAPELESS_ALWAYS_INLINE_LAMBDA {
    (visit.template operator()<chunks - 1 - C>(index_constant<chunks - 1 - C>{}), ...);
  }(std::make_index_sequence<chunks - end>{});
  for (std::size_t k = first; k < end; ++k) visit.template operator()<first>(k);
  [&]<std::size_t... C>(std::index_sequence<C...>) TAPELESS_ALWAYS_INLINE_LAMBDA {
    (visit.template operator()<first - 1 - C>(index_constant<first - 1 - C>{}), ...);
  }(std::make_index_sequence<first>{});
}

// Scratch of the row kernels for S, in elements of T: the weight gradient's
// running sums (a register per tap and channel).
template <conv2d_shape S, class T, class Arch>
inline constexpr std::size_t depthwise_rows_scratch = S.in_channels * S.kernel_height * S.kernel_width * lanes<T, Arch>;

// Lanes [0, n) of a batch, as a mask.
template <class Batch>
TAPELESS_ALWAYS_INLINE inline typename Batch::batch_bool_type first_lanes(std::size_t n) noexcept {
  using T = typename Batch::value_type;
  return lane_indices<typename Batch::arch_type, T>() < Batch(T(n));
}

// x with the lanes from Valid on zero: one blend with an immediate mask
// (with AVX2, a mask in a register would be rebuilt by a compare per row).
template <std::size_t Valid, class Batch>
TAPELESS_ALWAYS_INLINE inline Batch keep_first_lanes(const Batch& x) noexcept {
  using T = typename Batch::value_type;
  using A [[maybe_unused]] = typename Batch::arch_type;
  if constexpr (Valid >= Batch::size)
    return x;
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, float>)
    return Batch(_mm512_maskz_mov_ps(__mmask16((1u << Valid) - 1), x));
#endif
#if XSIMD_WITH_AVX2
  else if constexpr (std::is_base_of_v<xsimd::avx2, A> && std::is_same_v<T, float>)
    return Batch(_mm256_blend_ps(x, _mm256_setzero_ps(), 0xff & ~((1 << Valid) - 1)));
#endif
  else
    return xsimd::select(first_lanes<Batch>(Valid), x, Batch(T(0)));
}

// L elements from p, those from lane Valid on zero. Reads a whole register
// when it stays before `end`; else only the valid ones.
template <class Batch, std::size_t Valid, class T>
TAPELESS_ALWAYS_INLINE inline Batch load_first_lanes(const T* p, const T* end) noexcept {
  if (p + Batch::size <= end) [[likely]]
    return keep_first_lanes<Valid>(Batch::load_unaligned(p));
  alignas(64) T part[Batch::size] = {};
  for (std::size_t i = 0; i < Valid; ++i) part[i] = p[i];
  return Batch::load_aligned(part);
}

// Lanes [S, S + L) of the registers lo, hi side by side (0 <= S < L): the
// register a tap reads when it starts S lanes past an aligned one. One
// valignd with AVX-512, two instructions with AVX2.
template <std::size_t S, class Batch>
TAPELESS_ALWAYS_INLINE inline Batch lanes_from(const Batch& lo, const Batch& hi) noexcept {
  using T = typename Batch::value_type;
  using A [[maybe_unused]] = typename Batch::arch_type;  // read only where the build enables AVX2 or AVX-512
  if constexpr (S == 0)
    return lo;
#if XSIMD_WITH_AVX512F
  else if constexpr (std::is_base_of_v<xsimd::avx512f, A> && std::is_same_v<T, float>)
    return Batch(_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), S)));
#endif
#if XSIMD_WITH_AVX2
  else if constexpr (std::is_base_of_v<xsimd::avx2, A> && std::is_same_v<T, float>) {
    const __m256 middle = _mm256_permute2f128_ps(lo, hi, 0x21);  // lo's high half, hi's low half
    if constexpr (S == 4)
      return Batch(middle);
    else if constexpr (S < 4)
      return Batch(_mm256_castsi256_ps(
          _mm256_alignr_epi8(_mm256_castps_si256(middle), _mm256_castps_si256(lo), S * sizeof(float))));
    else
      return Batch(_mm256_castsi256_ps(
          _mm256_alignr_epi8(_mm256_castps_si256(hi), _mm256_castps_si256(middle), (S - 4) * sizeof(float))));
  }
#endif
  else {  // other instruction sets and double: through memory
    alignas(64) T both[2 * Batch::size];
    lo.store_aligned(both);
    hi.store_aligned(both + Batch::size);
    return Batch::load_unaligned(both + S);
  }
}

// The copy of registers v starting At lanes past v[0].
template <std::size_t At, class Batch>
TAPELESS_ALWAYS_INLINE inline Batch shifted_copy(const Batch* v) noexcept {
  constexpr std::size_t L = Batch::size;
  if constexpr (At % L == 0)
    return v[At / L];
  else
    return lanes_from<At % L>(v[At / L], v[At / L + 1]);
}

// With AVX-512 a row's last register is loaded whole (no blend: the blends
// and the shifts share the FMA pipes, measured the limit of these kernels) and
// the copies zero what they must in the shift itself; results and products in
// lanes past a row's end are then junk, never stored past the row nor summed.
template <class Batch>
inline constexpr bool masked_copies =
#if XSIMD_WITH_AVX512F
    std::is_base_of_v<xsimd::avx512f, typename Batch::arch_type> && std::is_same_v<typename Batch::value_type, float>;
#else
    false;
#endif

// L elements from p, whole when that stays before `end` (the lanes past the
// valid ones then hold what follows); else the valid ones and zeros.
template <class Batch, std::size_t Valid, class T>
TAPELESS_ALWAYS_INLINE inline Batch load_whole_or_first_lanes(const T* p, const T* end) noexcept {
  if (p + Batch::size <= end) [[likely]]
    return Batch::load_unaligned(p);
  return load_first_lanes<Batch, Valid>(p, end);
}

// What a tile reads: its source plane, and where the source tensor ends (no
// load reaches past it).
template <class T, class Batch>
struct source_rows {
  const T* plane;
  const T* end;
};

// Register J of source row `row`: zero outside the row, the lanes past W zero.
template <plane_stencil P, class Batch, long J, class T>
TAPELESS_ALWAYS_INLINE inline Batch source_register(const T* row, const source_rows<T, Batch>& s) noexcept {
  constexpr std::size_t L = Batch::size;
  if constexpr (J < 0 || J >= long((P.W + L - 1) / L))
    return Batch(T(0));
  else if constexpr ((std::size_t(J) + 1) * L <= P.W)
    return Batch::load_unaligned(row + J * L);
  else if constexpr (masked_copies<Batch>)  // the lanes past W zeroed in the copies that need it
    return load_whole_or_first_lanes<Batch, P.W % L>(row + J * L, s.end);
  else
    return load_first_lanes<Batch, P.W % L>(row + J * L, s.end);
}

// Tap kw of result chunk K with masked copies: the lanes of its copy that must
// be zero are those whose source column is at or past W in the row's last
// register (left unmasked); only the lanes of result columns below OW count.
template <plane_stencil P, std::size_t L>
struct copy_lanes {
  // Lanes whose source column is before W, as a mask (the zero registers give the rest).
  static constexpr unsigned long long keep(std::size_t K, std::size_t kw) {
    const long start = long(K * L + kw * P.D) - long(P.PW);
    unsigned long long bits = 0;
    for (std::size_t i = 0; i < L; ++i)
      if (start + long(i) < long(P.W)) bits |= 1ull << i;
    return bits;
  }
  // Whether some lane of a result column below OW reads a column in [W, source_chunks L).
  static constexpr bool needs_zeroing(std::size_t K, std::size_t kw) {
    const long start = long(K * L + kw * P.D) - long(P.PW), loaded = long((P.W + L - 1) / L * L);
    for (std::size_t i = 0; i < L && K * L + i < P.OW(); ++i)
      if (start + long(i) >= long(P.W) && start + long(i) < loaded) return true;
    return false;
  }
};

// The copy of registers v starting At lanes past v[0], for chunk K's tap kw,
// when the row's last register is left unmasked: a valignd zeroes the lanes
// past the row for free (its zero-masking form); an unshifted copy is masked
// only when a result lane would read past the row.
template <plane_stencil P, std::size_t K, std::size_t KW, std::size_t At, class Batch>
TAPELESS_ALWAYS_INLINE inline Batch masked_shifted_copy(const Batch* v) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (masked_copies<Batch>) {
    constexpr std::size_t L = Batch::size;
    constexpr auto keep = __mmask16(copy_lanes<P, L>::keep(K, KW));
    if constexpr (At % L != 0)
      return Batch(_mm512_castsi512_ps(_mm512_maskz_alignr_epi32(keep, _mm512_castps_si512(v[At / L + 1]),
                                                                 _mm512_castps_si512(v[At / L]), At % L)));
    else if constexpr (copy_lanes<P, L>::needs_zeroing(K, KW))
      return Batch(_mm512_maskz_mov_ps(keep, v[At / L]));
    else
      return v[At / L];
  } else
#endif
    return shifted_copy<At>(v);
}

// Tap (kh, kw) of padded row I of a tile feeds result row I - kh D, if the tile has it.
template <plane_stencil P, std::size_t Rows, std::size_t I, std::size_t KW, class Batch, class F, std::size_t... KH>
TAPELESS_ALWAYS_INLINE inline void feed_rows(const Batch& copy, F& f, std::index_sequence<KH...>) noexcept {
  (
      [&] {
        if constexpr (I >= KH * P.D && I - KH * P.D < Rows)
          f(index_constant<I - KH * P.D>{}, index_constant<KH>{}, index_constant<KW>{}, copy);
      }(),
      ...);
}

// Chunk K's tap kw loaded straight from the row (Direct) instead of shifted:
// with AVX2, where a shift costs two shuffles, when the source columns of the
// chunk's result columns all fall inside the row. The lanes past the result's
// columns read what follows the row: junk in result lanes past the row's end,
// never stored. (Also loading the taps that reach into the padding, with a
// blend to zero them, measured 1.2x slower on the bench's 14 x 14 layer.)
template <plane_stencil P, class Batch, std::size_t K, std::size_t KW>
struct direct_tap {
  static constexpr std::size_t L = Batch::size;
  static constexpr long start = long(K * L + KW * P.D) - long(P.PW);
  static constexpr long needed = long(std::min(L, P.OW() - K * L));
  static constexpr bool applies(bool direct) {
    bool avx2_float = false;
#if XSIMD_WITH_AVX2
    avx2_float = std::is_base_of_v<xsimd::avx2, typename Batch::arch_type> &&
                 std::is_same_v<typename Batch::value_type, float> && L == 8;
#endif
    return direct && avx2_float && (row_registers<P, L>::lane_offset(K) + KW * P.D) % L != 0 &&
           start >= 0 && start + needed <= long(P.W);
  }
};

template <plane_stencil P, std::size_t K, std::size_t Rows, std::size_t I, bool Direct, class Batch, class T,
          class F, std::size_t... J, std::size_t... KW>
TAPELESS_ALWAYS_INLINE inline void feed_padded_row(const T* row, const source_rows<T, Batch>& s, F& f,
                                                   std::index_sequence<J...>, std::index_sequence<KW...>) noexcept {
  using layout = row_registers<P, Batch::size>;
  const Batch v[] = {source_register<P, Batch, layout::first_register(K) + long(J)>(row, s)...};
  (
      [&] {
        constexpr std::size_t at = layout::lane_offset(K) + KW * P.D;
#if XSIMD_WITH_AVX2
        using tap = direct_tap<P, Batch, K, KW>;
        if constexpr (tap::applies(Direct)) {
          // At the end of the tensor, the shifts instead.
          const T* p = row + tap::start;
          const Batch copy = p + Batch::size <= s.end ? Batch::load_unaligned(p) : shifted_copy<at>(v);
          feed_rows<P, Rows, I, KW>(copy, f, std::make_index_sequence<P.KH>{});
        } else
#endif
        {
          feed_rows<P, Rows, I, KW>(masked_shifted_copy<P, K, KW, at>(v), f, std::make_index_sequence<P.KH>{});
        }
      }(),
      ...);
}

template <plane_stencil P, std::size_t K, class Batch, std::size_t Rows, bool Direct, class T, class F,
          std::size_t... I>
TAPELESS_ALWAYS_INLINE inline void feed_padded_rows(const source_rows<T, Batch>& s, std::size_t oh0, F& f,
                                                    std::index_sequence<I...>) noexcept {
  (
      [&] {
        // Padded row oh0 + I is source row oh0 + I - PH; rows of the padding feed nothing.
        const std::size_t r = oh0 + I;
        if (r >= P.PH && r - P.PH < P.H)
          feed_padded_row<P, K, Rows, I, Direct>(s.plane + (r - P.PH) * P.W, s, f,
                                         std::make_index_sequence<row_registers<P, Batch::size>::registers>{},
                                         std::make_index_sequence<P.KW>{});
      }(),
      ...);
}

// The taps of result chunk K on rows [oh0, oh0 + Rows): each source row the
// rows read is loaded once (whole registers, zero where the padding is), its
// KW shifted copies made in registers, and each copy handed to every row it
// feeds: f(r, kh, kw, copy) for result row oh0 + r, the indices as integral
// constants. Direct: copies may hold junk in lanes past the row's end (see
// direct_tap).
template <plane_stencil P, std::size_t K, class Batch, std::size_t Rows, bool Direct = false, class T, class F>
TAPELESS_ALWAYS_INLINE inline void over_tile(const source_rows<T, Batch>& s, std::size_t oh0, F&& f) noexcept {
  feed_padded_rows<P, K, Batch, Rows, Direct>(s, oh0, f, std::make_index_sequence<Rows + (P.KH - 1) * P.D>{});
}

// The result chunk (oh, k) of a plane into dst (the result plane, OH x OW),
// through the epilogue (row: the plane's row of the output matrix). A whole
// store's extra lanes are overwritten by chunks stored later (see
// stencil_plane); at the end of the result, only the valid lanes are written.
template <plane_stencil P, class Batch, class T, class Epilogue>
TAPELESS_ALWAYS_INLINE inline void store_chunk(const Batch& v, T* dst, const T* end, std::size_t row, std::size_t oh,
                                               std::size_t k, Epilogue& epilogue) noexcept {
  constexpr std::size_t L = Batch::size, OW = P.OW();
  const std::size_t col = oh * OW + k * L;
  T* p = dst + col;
  if (k * L + L <= OW) {
    static_cast<Batch>(epilogue(v, output_at<T, Batch>{p, row, col})).store_unaligned(p);
  } else if (std::is_same_v<std::remove_cvref_t<Epilogue>, epilogue::store> && p + L <= end) {
    v.store_unaligned(p);
  } else {
    alignas(64) T part[L];
    v.store_aligned(part);
    for (std::size_t i = 0; i < OW - k * L; ++i)
      p[i] = static_cast<T>(epilogue(part[i], output_at<T, T>{p + i, row, col + i}));
  }
}

// Rows of a tile, at most: independent FMA chains, enough to cover the FMA
// latency on both pipes, and each loaded row feeds up to KH of them; fewer
// with AVX2's 16 registers (with 7 rows, some weights are FMA memory
// operands there). The weight gradient's chains are its taps; its rows share
// each shifted copy. (Tried 2-8 on the bench's 14 x 14 layer, AVX-512 and
// AVX2: 8 and 7 rows forward (as 7 + 7, see even_tile_rows), 8 and 4 for
// the weight gradient measured fastest, by 5-20%; AVX2's 6 + 6 + 2 forward
// was 1.3x slower than 7 + 7.)
template <class Batch>
inline constexpr std::size_t tile_rows = Batch::size >= 16 ? 8 : 7;
template <class Batch>
inline constexpr std::size_t weight_gradient_tile_rows = Batch::size >= 16 ? 8 : 4;
// Accumulators per tap of the weight gradient: consecutive rows' products of a
// tap go to different ones, so that the chains are not one FMA latency per row
// (with AVX-512's two FMAs a cycle, 9 chains of a 3 x 3 kernel were too few).
template <class Batch>
inline constexpr std::size_t weight_gradient_chains = Batch::size >= 16 ? 2 : 1;

// Rows per tile for OH rows, at most Most: as few tiles as that allows, as
// even as can be. A short last tile has too few chains to cover the FMA
// latency and loads and shifts its source rows for little work (14 rows as
// 7 + 7 rather than 6 + 6 + 2 measured 1.3x faster with AVX2).
template <std::size_t OH, std::size_t Most>
inline constexpr std::size_t even_tile_rows = (OH + (OH + Most - 1) / Most - 1) / ((OH + Most - 1) / Most);

// Every result chunk of one plane, a tile of rows at a time.
template <plane_stencil P, class Batch, class T, class Epilogue>
TAPELESS_ALWAYS_INLINE inline void stencil_plane(const source_rows<T, Batch>& s, const Batch* w, T* dst, const T* end,
                                                 std::size_t row, Epilogue& epilogue) noexcept {
  constexpr std::size_t OH = P.OH(), R = even_tile_rows<OH, tile_rows<Batch>>;
  // The lambdas inlined by force: g++ left this one out of line once its body
  // went through for_each_chunk, and the forward pass ran 4x slower.
  auto tile = [&]<std::size_t Rows>(std::size_t oh0) TAPELESS_ALWAYS_INLINE_LAMBDA {
    // Last chunk first: a whole store past a row's end then lands on chunks still to be stored.
    for_each_chunk<P, Batch, true>([&]<std::size_t K>(auto k) TAPELESS_ALWAYS_INLINE_LAMBDA {
      Batch acc[Rows];
      for (std::size_t r = 0; r < Rows; ++r) acc[r] = Batch(T(0));
      const source_rows<T, Batch> at{s.plane + (k - K) * Batch::size, s.end};
      over_tile<P, K, Batch, Rows, true>(at, oh0, [&](std::size_t r, std::size_t kh, std::size_t kw, const Batch& v) {
        acc[r] = xsimd::fma(w[kh * P.KW + kw], v, acc[r]);
      });
      for (std::size_t r = 0; r < Rows; ++r) store_chunk<P, Batch>(acc[r], dst, end, row, oh0 + r, k, epilogue);
    });
  };
  std::size_t oh0 = 0;
  for (; oh0 + R <= OH; oh0 += R) tile.template operator()<R>(oh0);
  if constexpr (OH % R != 0) tile.template operator()<OH % R>(oh0);
}

// Every plane's correlation: planes of `source` (H x W each) into planes of
// `result` (OH x OW each); plane p reads the weights of channel p % channels
// (turned 180 degrees when Turned).
template <plane_stencil P, bool Turned, std::size_t Planes, std::size_t Channels, class Arch, class T, class Epilogue>
inline void depthwise_stencil(const T* source, const T* weight, T* result, Epilogue& epilogue) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t taps = P.KH * P.KW, source_plane = P.H * P.W, result_plane = P.OH() * P.OW();
  const T* const source_end = source + Planes * source_plane;
  const T* const result_end = result + Planes * result_plane;
  for (std::size_t p = 0; p < Planes; ++p) {
    const T* w = weight + (p % Channels) * taps;
    batch wv[taps];
    for (std::size_t t = 0; t < taps; ++t) wv[t] = batch(w[Turned ? taps - 1 - t : t]);
    const source_rows<T, batch> s{source + p * source_plane, source_end};
    stencil_plane<P, batch>(s, wv, result + p * result_plane, result_end, p, epilogue);
  }
}

template <conv2d_shape S, class Arch, class T, class Epilogue>
inline void conv2d_depthwise_rows(const T* input, const T* weight, T* output, T*,
                                  Epilogue& epilogue) noexcept {
  depthwise_stencil<forward_stencil<S>, false, S.batch * S.in_channels, S.in_channels, Arch>(input, weight, output,
                                                                                             epilogue);
}

template <conv2d_shape S, class Arch, class T>
inline void conv2d_input_gradient_depthwise_rows(const T* output_gradient, const T* weight, T* input_gradient,
                                                 T*) noexcept {
  epilogue::store store;
  depthwise_stencil<input_gradient_stencil<S>, true, S.batch * S.in_channels, S.in_channels, Arch>(
      output_gradient, weight, input_gradient, store);
}

// a * b + c in lanes [0, N), c in the others (with masked copies, the lanes
// past a row's end hold junk that must not be summed).
template <std::size_t N, class Batch>
TAPELESS_ALWAYS_INLINE inline Batch fma_first_lanes(const Batch& a, const Batch& b, const Batch& c) noexcept {
#if XSIMD_WITH_AVX512F
  if constexpr (masked_copies<Batch> && N < Batch::size)
    return Batch(_mm512_mask3_fmadd_ps(a, b, c, __mmask16((1u << N) - 1)));
  else
#endif
    return xsimd::fma(a, b, c);
}

// dW(c, kh, kw) = sum over images and positions of dY(oh, ow) * padded X(oh + kh D, ow + kw D).
template <conv2d_shape S, class Arch, class T>
inline void conv2d_weight_gradient_depthwise_rows(const T* input, const T* output_gradient, T* weight_gradient,
                                                  T* scratch) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr plane_stencil P = forward_stencil<S>;
  constexpr std::size_t L = batch::size, C = S.in_channels, KW = S.kernel_width, taps = S.kernel_height * KW;
  constexpr std::size_t planes = S.batch * C, OH = P.OH(), OW = P.OW(), tail = OW % L;
  constexpr std::size_t chunks = row_registers<P, L>::result_chunks;
  constexpr std::size_t source_plane = P.H * P.W, result_plane = OH * OW, R = even_tile_rows<OH, weight_gradient_tile_rows<batch>>;
  const T* const source_end = input + planes * source_plane;
  const T* const gradient_end = output_gradient + planes * result_plane;
  T* sums = scratch;  // [C][taps] registers
  fill_zero(sums, C * taps * L);
  for (std::size_t p = 0; p < planes; ++p) {
    const source_rows<T, batch> s{input + p * source_plane, source_end};
    const T* dy = output_gradient + p * result_plane;
    constexpr std::size_t chains = weight_gradient_chains<batch>;
    batch acc[chains][taps];
    for (std::size_t c = 0; c < chains; ++c)
      for (std::size_t t = 0; t < taps; ++t) acc[c][t] = batch(T(0));
    auto tile = [&]<std::size_t Rows>(std::size_t oh0) TAPELESS_ALWAYS_INLINE_LAMBDA {
      for_each_chunk<P, batch, !shifts_in_registers<batch>>([&]<std::size_t K>(auto k) TAPELESS_ALWAYS_INLINE_LAMBDA {
        batch d[Rows];
        for (std::size_t r = 0; r < Rows; ++r) {
          const T* at = dy + (oh0 + r) * OW + k * L;
          if constexpr (tail == 0 || K + 1 < chunks)
            d[r] = batch::load_unaligned(at);
          else if constexpr (masked_copies<batch>)
            d[r] = load_whole_or_first_lanes<batch, tail>(at, gradient_end);
          else
            d[r] = load_first_lanes<batch, tail>(at, gradient_end);
        }
        const source_rows<T, batch> from{s.plane + (k - K) * L, s.end};
        over_tile<P, K, batch, Rows>(from, oh0, [&](std::size_t r, std::size_t kh, std::size_t kw, const batch& v) {
          batch& a = acc[r % chains][kh * KW + kw];
          a = fma_first_lanes<(tail == 0 || K + 1 < chunks) ? L : tail>(d[r], v, a);
        });
      });
    };
    std::size_t oh0 = 0;
    for (; oh0 + R <= OH; oh0 += R) tile.template operator()<R>(oh0);
    if constexpr (OH % R != 0) tile.template operator()<OH % R>(oh0);
    T* sum = sums + (p % C) * taps * L;
    for (std::size_t t = 0; t < taps; ++t) {
      batch a = acc[0][t];
      for (std::size_t c = 1; c < chains; ++c) a += acc[c][t];
      (batch::load_unaligned(sum + t * L) + a).store_unaligned(sum + t * L);
    }
  }
  for (std::size_t i = 0; i < C * taps; ++i) weight_gradient[i] = xsimd::hadd(batch::load_unaligned(sums + i * L));
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd::detail
