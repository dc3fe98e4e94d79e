#pragma once
// transpose(rows): the W x W block held in W batches (row r in rows[r]),
// transposed in place by the classic exchange network: at level h, rows r
// and r + h (bit h of r clear) swap their off-diagonal h x h blocks, with two
// two-source shuffles; log2(W) levels, W log2(W) shuffles for W^2 elements
// (64 for a 16 x 16 float block with AVX-512, a quarter of an instruction
// per element). pack_transposed copies an N x K matrix into a K x N one
// block by block with it.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <bit>
#include <cstddef>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Rows r and r + H exchange lanes: r keeps its lanes with bit H clear and
// takes r + H's lanes l - H for the others; r + H the converse. Each result
// is one shuffle of the two rows with constant indices (the compiler's
// builtin, which g++ and clang lower to the instruction set's shuffles:
// vpermt2ps, or in-lane vshufps and vshuff32x4 where the indices allow, on
// AVX-512). xsimd's select under a mask loaded from a constant table and
// swizzle cost four instructions where this costs two, and g++ took twice as
// long to compile a GEMM that packs B^T with them: each load of the mask
// table was traced back through every store of the packing (as fast,
// bench/kernels/gemm.cpp's transformer rows; bench/results/compile_cost.md).
template <std::size_t H, class Batch, std::size_t... L>
TAPELESS_ALWAYS_INLINE inline void exchange(Batch& upper, Batch& lower, std::index_sequence<L...>) noexcept {
  constexpr std::size_t w = sizeof...(L);
  const Batch u = __builtin_shufflevector(upper.data, lower.data, ((L & H) == 0 ? L : w + L - H)...);
  lower = __builtin_shufflevector(upper.data, lower.data, ((L & H) == 0 ? L + H : w + L)...);
  upper = u;
}
template <std::size_t H, class Batch>
TAPELESS_ALWAYS_INLINE inline void exchange(Batch& upper, Batch& lower) noexcept {
  exchange<H>(upper, lower, std::make_index_sequence<Batch::size>{});
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

// Pair p of level H: row r = p with a zero bit inserted at H, and r + H.
template <std::size_t H, class Batch, std::size_t... P>
TAPELESS_ALWAYS_INLINE inline void exchange_level(Batch* rows, std::index_sequence<P...>) noexcept {
  (exchange<H>(rows[((P & ~(H - 1)) << 1) | (P & (H - 1))], rows[(((P & ~(H - 1)) << 1) | (P & (H - 1))) + H]), ...);
}

template <class Batch, std::size_t... Level>
TAPELESS_ALWAYS_INLINE inline void transpose(Batch* rows, std::index_sequence<Level...>) noexcept {
  (exchange_level<(std::size_t{1} << Level)>(rows, std::make_index_sequence<Batch::size / 2>{}), ...);
}

template <class Batch>
TAPELESS_ALWAYS_INLINE inline void transpose(Batch* rows) noexcept {
  static_assert((Batch::size & (Batch::size - 1)) == 0, "tl::simd: transpose needs a power-of-two batch size");
  transpose(rows, std::make_index_sequence<std::bit_width(Batch::size) - 1>{});
}

template <class Batch, std::size_t K, std::size_t N, class T, std::size_t... R>
TAPELESS_ALWAYS_INLINE inline void pack_block(const T* b, T* packed, std::index_sequence<R...>) noexcept {
  Batch rows[Batch::size] = {Batch::load_unaligned(b + R * K)...};
  transpose(rows);
  (rows[R].store_aligned(packed + R * N), ...);
}

// packed (K x N, 64-byte aligned) = b^T for b stored N x K; both dimensions
// multiples of the batch size.
template <class Batch, std::size_t K, std::size_t N, class T>
TAPELESS_ALWAYS_INLINE inline void pack_transposed(const T* b, T* packed) noexcept {
  constexpr std::size_t w = Batch::size;
  static_assert(K % w == 0 && N % w == 0, "tl::simd: pack_transposed works on whole blocks");
  for (std::size_t j = 0; j < N; j += w)
    for (std::size_t k = 0; k < K; k += w)
      pack_block<Batch, K, N>(b + j * K + k, packed + k * N + j, std::make_index_sequence<w>{});
}

}  // namespace tapeless::simd::detail
