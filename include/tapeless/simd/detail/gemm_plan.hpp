#pragma once
// The compile-time plan of one GEMM: which tile, how big, unrolled or not,
// chosen from the static shape and the instruction set. Every decision is a
// named constant with the reason next to it.

#include <tapeless/simd/detail/sanitized_build.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>

namespace tapeless::simd {

// How GEMM reads an operand: as stored (row-major), or as its transpose
// (the same memory read column by column; nothing is copied).
enum class op : bool { none, transpose };

namespace detail {

constexpr std::size_t min_of(std::size_t a, std::size_t b) { return a < b ? a : b; }
constexpr std::size_t max_of(std::size_t a, std::size_t b) { return a > b ? a : b; }

// Rows of a tile when `rows` rows are split into tiles of at most `most`
// rows, as evenly as possible (10 rows at most 6: two tiles of 5, not 6 + 4).
constexpr std::size_t balanced_rows(std::size_t rows, std::size_t most) {
  const std::size_t tiles = (rows + most - 1) / most;
  return (rows + tiles - 1) / tiles;
}

// The figures in the comments are GFLOP/s on one Zen 5 core (float32, g++ 12
// -O3 -march=native), measured for the MLP shapes when these were chosen.
template <class T, class Arch, std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB>
struct gemm_plan {
  using batch = xsimd::batch<T, Arch>;
  static constexpr std::size_t lanes = batch::size;

  // Vector registers: x86 has 32 with AVX-512 (64-byte registers), 16 below.
  static constexpr std::size_t registers = sizeof(batch) >= 64 ? 32 : 16;

  // A as stored and B transposed: both are read along k, contiguously, so
  // each element of C is a dot product of two contiguous rows; no copy of B^T
  // is needed.
  static constexpr bool dot_products_possible = OpA == op::none && OpB == op::transpose;

  // ... but with a short k the lane sums at the end of each dot product cost
  // more than its FMAs. Then B^T is copied into a K x N stack panel by
  // in-register block transposes (half an instruction per element, paid once
  // for all M rows) and the outer-product tiles apply. Whole blocks only, at
  // most 32 KiB, and M large enough to share the copy. 32x32x32 A B^T: 704 ns
  // as dot products, 431 ns packed (the copy about 150 ns of it).
  static constexpr bool pack_transposed_b = dot_products_possible && K <= 4 * lanes && K % lanes == 0 &&
                                            N % lanes == 0 && M >= 8 && K * N * sizeof(T) <= 32 * 1024;
  // With k short but B^T too large for one stack copy, or k not a whole
  // number of batches (a dot product then ends in K mod lanes scalar FMAs per
  // element), B^T is copied one column panel (K x the tile's width) at a time
  // just before the rows of A go past it: K x 32 floats at most 16 KiB. An
  // LSTM's input projection, 1792x28x512 A B^T: 24 GFLOP/s as dot products.
  // Whole batches of columns only: a column left over would be scalar FMAs
  // (a layer of one output keeps its dot products).
  static constexpr bool pack_panels_of_b =
      dot_products_possible && !pack_transposed_b && K <= 4 * lanes && M >= 8 && N % lanes == 0;
  // A longer k with few rows of A against it: a dot product's lane sums
  // cost about 2 shuffles per element of C, K / lanes FMAs apart, and a
  // panel's block transposes log2(lanes) / lanes shuffles per element of B,
  // shared by the M rows: packing wins where K is under about lanes / 2 * M.
  // Measured on a Xeon (bench/results/kernels.md): with AVX-512, W2's fc2
  // X W^T, 64x256x128, 31.0 us as dot products and 27.6 packed (79% -> 89% of
  // the FMA peak), its fc1, 64x784x256 (K > 8 M), 161 and 175; with AVX2
  // 64x256x128 and 32x128x32 (K = 4 M) no faster packed, 64x64x128 5% faster.
  // Whole blocks for the transposes; the panel (K x two batches) at most
  // 32 KiB on the stack; as for the short panels, 8 rows or more (a few
  // rows were not measured).
  static constexpr bool pack_long_panels_of_b = dot_products_possible && !pack_transposed_b && !pack_panels_of_b &&
                                                K % lanes == 0 && N % lanes == 0 && K < lanes / 2 * M && M >= 8 &&
                                                K * 2 * lanes * sizeof(T) <= 32 * 1024;
  static constexpr bool dot_products =
      dot_products_possible && !pack_transposed_b && !pack_panels_of_b && !pack_long_panels_of_b;

  // A and B both transposed: C^T = B A (as stored) is a product whose right
  // operand has contiguous rows, so it is computed by the outer-product tiles
  // and written transposed (element by element) into C.
  static constexpr bool transposed_output = OpA == op::transpose && OpB == op::transpose;

  // A^T B (a weight's gradient, dY^T X) whose C rows are not whole batches
  // but whose C columns are: C^T = B^T A has rows of whole batches (A's rows
  // as stored), so it is computed instead and written transposed, where C
  // would end every row in N mod lanes scalar columns over the whole depth.
  // An LSTM's input-weight gradient, 512x1792x28: 24 GFLOP/s as C.
  static constexpr bool transposed_output_for_width =
      OpA == op::transpose && OpB == op::none && N % lanes != 0 && M % lanes == 0;

  // The product the outer-product tiles compute: rows x K x columns.
  static constexpr std::size_t rows = transposed_output || transposed_output_for_width ? N : M;
  static constexpr std::size_t columns = transposed_output || transposed_output_for_width ? M : N;

  // Outer-product tile: tile_rows x tile_vectors batches of accumulators;
  // per k, tile_vectors loads of B and tile_rows broadcasts of A, so
  // tile_rows * tile_vectors + tile_vectors + 1 registers. Two batches wide:
  // 8 x 2 with 32 registers (12 x 2, 6 x 4, 8 x 3 no faster: 216 GFLOP/s on
  // 64x256x784; 4 x 4 and 4 x 6 162-175), 6 x 2 with 16 (113; 4 x 3 83).
  // Fewer rows than fit in one tile (14 or 6) make one tile: M = 10 with
  // AVX-512 ran at 220 as one 10-row tile, 189 as 8 + 2. C narrower than two
  // batches gets one batch and twice the rows.
  // A single row (batch 1) takes up to four batches (eight with 32
  // registers): each broadcast of A then serves four (eight) FMAs (a 64x64
  // layer at batch 1 from a packed W^T: 57 -> 54 ns). A streamed LSTM-32's
  // h W_hh^T (1 x 32 x 128) was bound by its loads, 64 broadcasts beside
  // 256 FMAs' operands as two tiles of four, 32 as one of eight.
  static constexpr std::size_t tile_vectors =
      min_of(rows == 1 ? (registers == 32 ? 8 : 4) : 2, max_of(1, columns / lanes));
  static constexpr std::size_t most_rows = (registers == 32 ? 16 : 12) / tile_vectors;
  static constexpr std::size_t single_tile_rows = min_of((registers - tile_vectors - 1) / tile_vectors, 2 * most_rows);
  static constexpr std::size_t tile_rows = rows <= single_tile_rows ? rows : balanced_rows(rows, most_rows);

  // Dot-product tile: dot_rows x dot_cols accumulators, dot_rows batches of A
  // held while one batch of B at a time goes through its dot_rows FMAs. 4 x 6
  // with 32 registers (184 GFLOP/s on 64x784x256; 4 x 4 150, 3 x 8 178),
  // 3 x 4 with 16 (111; 2 x 4 95). A single row of C takes a row of columns.
  static constexpr std::size_t dot_rows = min_of(M, registers == 32 ? 4 : 3);
  static constexpr std::size_t dot_cols = min_of(N, M == 1 ? (registers == 32 ? 16 : 8) : (registers == 32 ? 6 : 4));

  // Unroll the k loop completely when it is short: no loop counter, and the
  // compiler schedules loads across iterations. Bounded to keep code small;
  // never under a sanitizer (sanitized_build.hpp).
#if defined(TAPELESS_SANITIZED_BUILD)
  static constexpr bool unrolled = false;
#else
  static constexpr bool unrolled = K <= 32;
#endif
};

}  // namespace detail
}  // namespace tapeless::simd
