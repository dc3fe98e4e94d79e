#pragma once
// transpose(rows): the W x W block held in W batches (row r in rows[r]),
// transposed in place by the classic exchange network: at level h, rows r
// and r + h (bit h of r clear) swap their off-diagonal h x h blocks, with two
// blends and two permutes; log2(W) levels, 2 W log2(W) instructions for W^2
// elements (128 for a 16 x 16 float block with AVX-512, about half an
// instruction per element). pack_transposed copies an N x K matrix into a
// K x N one block by block with it.

#include <tapeless/simd/detail/lane_permutes.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Rows r and r + H exchange lanes: r keeps its lanes with bit H clear and
// takes r + H's lanes l - H for the others; r + H the converse.
template <std::size_t H, class Batch>
[[gnu::always_inline]] inline void exchange(Batch& upper, Batch& lower) noexcept {
  const auto low = low_lanes<Batch, H>();
  constexpr auto swap = swap_lanes<Batch, H>();
  const Batch u = xsimd::select(low, upper, xsimd::swizzle(lower, swap));
  lower = xsimd::select(low, xsimd::swizzle(upper, swap), lower);
  upper = u;
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

// Pair p of level H: row r = p with a zero bit inserted at H, and r + H.
template <std::size_t H, class Batch, std::size_t... P>
[[gnu::always_inline]] inline void exchange_level(Batch* rows, std::index_sequence<P...>) noexcept {
  (exchange<H>(rows[((P & ~(H - 1)) << 1) | (P & (H - 1))], rows[(((P & ~(H - 1)) << 1) | (P & (H - 1))) + H]), ...);
}

template <class Batch, std::size_t... Level>
[[gnu::always_inline]] inline void transpose(Batch* rows, std::index_sequence<Level...>) noexcept {
  (exchange_level<(std::size_t{1} << Level)>(rows, std::make_index_sequence<Batch::size / 2>{}), ...);
}

template <class Batch>
[[gnu::always_inline]] inline void transpose(Batch* rows) noexcept {
  static_assert((Batch::size & (Batch::size - 1)) == 0, "tl::simd: transpose needs a power-of-two batch size");
  transpose(rows, std::make_index_sequence<std::bit_width(Batch::size) - 1>{});
}

template <class Batch, std::size_t K, std::size_t N, class T, std::size_t... R>
[[gnu::always_inline]] inline void pack_block(const T* b, T* packed, std::index_sequence<R...>) noexcept {
  Batch rows[Batch::size] = {Batch::load_unaligned(b + R * K)...};
  transpose(rows);
  (rows[R].store_aligned(packed + R * N), ...);
}

// packed (K x N, 64-byte aligned) = b^T for b stored N x K; both dimensions
// multiples of the batch size.
template <class Batch, std::size_t K, std::size_t N, class T>
[[gnu::always_inline]] inline void pack_transposed(const T* b, T* packed) noexcept {
  constexpr std::size_t w = Batch::size;
  static_assert(K % w == 0 && N % w == 0, "tl::simd: pack_transposed works on whole blocks");
  for (std::size_t j = 0; j < N; j += w)
    for (std::size_t k = 0; k < K; k += w)
      pack_block<Batch, K, N>(b + j * K + k, packed + k * N + j, std::make_index_sequence<w>{});
}

}  // namespace tapeless::simd::detail
