#pragma once
// simd::gemm: C = epilogue(op(A) * op(B)) for static shapes, row-major.
//
//   // h = relu(X W^T + b): X [64, 784], W [256, 784] as PyTorch stores it
//   simd::gemm<64, 784, 256, simd::op::none, simd::op::transpose>(
//       X, W, h, [&](auto v, auto at) { return xsimd::max(v + at.load(b + at.col), decltype(v)(0)); });
//
// Template arguments: M, K, N (op(A) is M x K, op(B) is K x N, C is M x N);
// how A and B are read (op::none: as stored; op::transpose: A stored K x M,
// or B stored N x K, read transposed where it lies: the caller never makes a
// transposed copy); the
// instruction set (xsimd architecture). Every matrix is dense and row-major
// (leading dimension = its number of columns as stored); pointers need no
// alignment. C must not overlap A or B.
//
// The kernel is chosen at compile time for the shape (detail/gemm_plan.hpp):
// register tiles over the whole depth K, the k loop fully unrolled when K is
// small; A B^T by dot products, or, when k is short beside A's rows, through
// a copy of B^T made by in-register transposes into a stack buffer of at
// most 32 KiB. It allocates nothing, throws nothing and calls the epilogue
// (see epilogue.hpp) exactly once per element of C, before the store. The
// whole call is flattened (everything it calls, the epilogue included, is
// inlined into the tiles), so keep epilogues small.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/gemm_kernels.hpp>
#include <tapeless/simd/detail/gemm_plan.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/target_cpu.hpp>
#include <tapeless/simd/detail/transpose.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <type_traits>

namespace tapeless::simd {

namespace detail {

// Where tiles put their results: C itself, or (Transposed) C^T, i.e. the
// tile's element (row, col) goes to C(col, row). Applies the epilogue.
template <class T, class Epilogue, bool Transposed>
struct gemm_output {
  T* c;
  std::size_t ldc;  // row length of C
  Epilogue& epilogue;

  // The epilogue stores the product as it is (costs nothing in scalar).
  static constexpr bool stores_the_product = std::is_same_v<Epilogue, epilogue::store>;

  template <class V>
  TAPELESS_ALWAYS_INLINE void put(std::size_t row, std::size_t col, const V& v) const noexcept {
    if constexpr (!Transposed) {
      finish(row, col, v);
    } else {
      alignas(64) T lane[lanes_of<V>];
      simd::store(lane, v);
      for (std::size_t l = 0; l < lanes_of<V>; ++l) finish(col + l, row, lane[l]);
    }
  }

  template <class V>
  TAPELESS_ALWAYS_INLINE void finish(std::size_t row, std::size_t col, const V& v) const noexcept {
    T* p = c + row * ldc + col;
    simd::store(p, static_cast<V>(epilogue(v, output_at<T, V>{p, row, col})));
  }
};

// The product P (Rows x Columns) = A' B' by outer-product tiles, where
//   A'(i, k) = a[i * ARowStride + k * AKStride],  B'(k, j) = b[k * Ldb + j].
// Column blocks outside, rows inside: a block of B stays in cache while A
// streams past it.
//
// Shares split the columns, or with SplitRows the rows (whole tiles each).
template <class Plan, std::size_t Rows, std::size_t K, std::size_t Columns, std::size_t Ldb,
          std::size_t ARowStride, std::size_t AKStride, bool SplitRows = false>
struct outer_product_gemm {
  using batch = typename Plan::batch;
  static constexpr std::size_t w = Plan::lanes;
  static constexpr std::size_t tile_rows = Plan::tile_rows, tile_vectors = Plan::tile_vectors;
  static constexpr std::size_t vector_columns = Columns / w * w;  // covered by whole batches
  static constexpr std::size_t panel_columns = vector_columns / (tile_vectors * w) * (tile_vectors * w);
  static constexpr std::size_t rest_vectors = (vector_columns - panel_columns) / w;
  static constexpr std::size_t rest_rows = Rows % tile_rows;
  static constexpr std::size_t rows = Rows, columns = Columns, a_row_stride = ARowStride;

  template <std::size_t R, std::size_t Vs, class V>
  using tile = outer_product_tile<R, Vs, V, K, ARowStride, AKStride, Ldb, Plan::unrolled>;

  static constexpr std::size_t whole_tile_rows = Rows / tile_rows * tile_rows;

  // Rows [first, last) of P (whole tiles), and the rows after the whole
  // tiles when with_rest, for the columns j0 .. j0 + Vs pieces of V.
  template <std::size_t Vs, class V, class T, class Output>
  TAPELESS_ALWAYS_INLINE static void column_block(const T* a, const T* b, const Output& out, std::size_t j0,
                                                  std::size_t first = 0, std::size_t last = whole_tile_rows,
                                                  bool with_rest = true) noexcept {
    for (std::size_t i0 = first; i0 < last; i0 += tile_rows)
      tile<tile_rows, Vs, V>::run(a + i0 * ARowStride, b + j0, out, i0, j0);
    if constexpr (rest_rows > 0)
      if (with_rest) tile<rest_rows, Vs, V>::run(a + whole_tile_rows * ARowStride, b + j0, out, whole_tile_rows, j0);
  }

  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out) noexcept {
    run_share(a, b, out, 0, 1);
  }

  // Shares of SplitRows (a weight's gradient, whose epilogue may update the
  // weight and its optimizer state in place) run each row tile over every
  // column when B stays in L2: the epilogue then reads and writes whole rows
  // in order. On the 2-core machine of bench/results/threads.md, in its slow
  // state, W2's fc1 (256x64x784 with SGD's momentum update) took 1.6x its
  // time alone when both shares ran at once with column blocks outside (the
  // tiles' strided rows), 1.07x this way. One thread keeps column blocks
  // outside: 4% faster there. Not where the k loop is unrolled (K <= 32):
  // each tile's B then comes from L1 only column blocks outside (256x32x784:
  // 173 us this way against 77, one thread). all_columns stays a call: inlined
  // into the flattened share, the same loops ran 1.4x slower.
  static constexpr bool row_tiles_outside =
      SplitRows && !Plan::unrolled && K * Columns * sizeof(typename batch::value_type) <= (std::size_t{256} << 10);

  // Column panels [first_panel, end_panel) of rows [first, last) (whole
  // tiles), with with_rest also of the rows after the whole tiles; with
  // tail, also the columns after the whole panels.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void sweep(const T* a, const T* b, const Output& out, std::size_t first_panel,
                                           std::size_t end_panel, std::size_t first, std::size_t last, bool with_rest,
                                           bool tail) noexcept {
    constexpr std::size_t panel = tile_vectors * w;
    for (std::size_t p = first_panel; p < end_panel; ++p)
      column_block<tile_vectors, batch>(a, b, out, p * panel, first, last, with_rest);
    if (!tail) return;
    if constexpr (rest_vectors > 0) column_block<rest_vectors, batch>(a, b, out, panel_columns, first, last, with_rest);
    for (std::size_t j = vector_columns; j < Columns; ++j)  // scalar tail
      column_block<1, T>(a, b, out, j, first, last, with_rest);
  }

  // Every column of rows [first, last) (whole tiles), and with with_rest of the rows after the whole tiles.
  template <class T, class Output>
  [[gnu::noinline]] static void all_columns(const T* a, const T* b, const Output& out, std::size_t first,
                                            std::size_t last, bool with_rest) noexcept {
    sweep(a, b, out, 0, panel_columns / (tile_vectors * w), first, last, with_rest, true);
  }

  // Share `part` of `parts`: a run of whole panels, the last share also the
  // columns after them; with SplitRows, a run of whole row tiles over every
  // column, the last share also the rows after them. Each element is
  // computed as run() computes it.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run_share(const T* a, const T* b, const Output& out, std::size_t part,
                                               std::size_t parts) noexcept {
    constexpr std::size_t panel = tile_vectors * w, panels = panel_columns / panel, tiles = Rows / tile_rows;
    if constexpr (row_tiles_outside) {
      if (parts > 1) {
        const std::size_t first_row = tiles * part / parts * tile_rows;
        const std::size_t end_row = tiles * (part + 1) / parts * tile_rows;
        for (std::size_t i0 = first_row; i0 < end_row; i0 += tile_rows) all_columns(a, b, out, i0, i0 + tile_rows, false);
        if constexpr (rest_rows > 0)
          if (part + 1 == parts) all_columns(a, b, out, whole_tile_rows, whole_tile_rows, true);
        return;
      }
    }
    // By columns: a run of panels, every row. By rows: every panel, a run of row tiles.
    const std::size_t first_panel = SplitRows ? 0 : panels * part / parts;
    const std::size_t end_panel = SplitRows ? panels : panels * (part + 1) / parts;
    const std::size_t first_row = SplitRows ? tiles * part / parts * tile_rows : 0;
    const std::size_t end_row = SplitRows ? tiles * (part + 1) / parts * tile_rows : whole_tile_rows;
    const bool last_share = part + 1 == parts;
    sweep(a, b, out, first_panel, end_panel, first_row, end_row, !SplitRows || last_share, SplitRows || last_share);
  }

  // Shares worth making: there are whole panels (or row tiles) to split.
  static constexpr std::size_t max_shares = SplitRows ? Rows / tile_rows : panel_columns / (tile_vectors * w);
};

// C = A B^T by dot-product tiles: A is M x K, B is stored N x K. Column
// blocks outside, rows inside: the block's rows of B stay in L1 while A streams.
template <class Plan, std::size_t M, std::size_t K, std::size_t N>
struct dot_product_gemm {
  static constexpr std::size_t tile_rows = Plan::dot_rows, tile_cols = Plan::dot_cols;
  static constexpr std::size_t rest_rows = M % tile_rows, rest_cols = N % tile_cols;

  template <std::size_t R, std::size_t C>
  using tile = dot_product_tile<R, C, typename Plan::batch, K, Plan::unrolled>;

  // Columns j0 .. j0 + C of rows [p0, p0 + rows) of A, those rows held at a.
  template <std::size_t C, class T, class Output>
  TAPELESS_ALWAYS_INLINE static void column_block(const T* a, const T* b, const Output& out, std::size_t p0,
                                                  std::size_t rows, std::size_t j0) noexcept {
    std::size_t i = 0;
    for (; i + tile_rows <= rows; i += tile_rows) tile<tile_rows, C>::run(a + i * K, b + j0 * K, out, p0 + i, j0);
    if constexpr (rest_rows > 0)
      if (i < rows) tile<rest_rows, C>::run(a + i * K, b + j0 * K, out, p0 + i, j0);
  }

  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out) noexcept {
    run_share(a, b, out, 0, 1);
  }

  // Share `part` of `parts`: a run of whole column blocks, the last share also the rest.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run_share(const T* a, const T* b, const Output& out, std::size_t part,
                                               std::size_t parts) noexcept {
    constexpr bool buffered = buffers_sums_for<Output>;
    if constexpr (copies_misaligned_a || buffered) {
      const bool copy = copies_misaligned_a && reinterpret_cast<std::uintptr_t>(a) % sizeof(typename Plan::batch) != 0;
      if (copy || buffered) {
        alignas(64) T rows_of_a[copies_misaligned_a ? copied_rows * K : 1];
        alignas(64) T sums[buffered ? buffered_rows * sums_cols : 1];
        // Copied, a panel fits both buffers; otherwise as many rows as the
        // sums' buffer holds (all of them, for most shapes: the order of
        // the tiles is then the one without buffers, column blocks outside).
        const std::size_t panel_rows =
            !copy ? buffered_rows : buffered ? min_of(copied_rows, buffered_rows) : copied_rows;
        for (std::size_t p0 = 0; p0 < M; p0 += panel_rows) {
          const std::size_t rows = p0 + panel_rows <= M ? panel_rows : M - p0;
          const T* panel = a + p0 * K;
          if (copy) {
            for (std::size_t e = 0; e < rows * K; ++e) rows_of_a[e] = a[p0 * K + e];
            panel = rows_of_a;
          }
          share_columns(panel, b, out, sums, p0, rows, part, parts);
        }
        return;
      }
    }
    share_columns(a, b, out, static_cast<T*>(nullptr), 0, M, part, parts);
  }

  // A off its registers' alignment (a span into a user's std::vector: 16
  // bytes past a cache line) splits every load of its rows over two cache
  // lines, once per column block. Where such loads are slow (an Intel core:
  // detail/target_cpu.hpp) run_share copies A a panel of rows at a time into
  // an aligned stack buffer (at most 32 KiB) and runs the share's column
  // blocks over each panel: the same tiles and sums, bit for bit. W2's X W^T
  // (64x784x256, X 16 bytes off): on a Xeon 10% faster with the copy
  // (bench/results/batch1.md), on a Zen 5 10-20% slower (kernels.md).
  // Only where K is whole batches, so that every copied row is aligned too,
  // and A has rows enough to share the copy (a batch-1 product keeps its
  // code and its stack frame).
  static constexpr std::size_t rows_of_a_in_32k =
      (32 * 1024 / (K * sizeof(typename Plan::batch::value_type))) / tile_rows * tile_rows;
  static constexpr bool copies_misaligned_a =
      detail::split_loads_are_slow && K % Plan::lanes == 0 && M >= 8 && rows_of_a_in_32k >= tile_rows;

  // A tile of several rows ends with its sums scattered over Rows x Cols
  // elements of C, each row's Cols (6 with AVX-512) fewer than a batch, so
  // the epilogue ran once per element, in scalar: a bias and relu after W2's
  // X W^T took fc1's 64x784x256 from 162 to 182 us, fc2's 64x256x128 from 31
  // to 42 (Xeon, AVX-512; bench/results/kernels.md). Instead the tiles of a
  // group of column blocks, whole batches wide, write their sums into a
  // stack buffer (at most 16 KiB), and the epilogue runs on whole batches of
  // each row once the group is done: the same tiles in the same order, the
  // same sums, one call per element as before. Not for one row (a batch-1
  // layer's tile keeps its sums in registers and puts whole batches already).
  static constexpr std::size_t group_cols = std::lcm(tile_cols, Plan::lanes);
  // A buffer row: a group, and the columns after the whole blocks (fewer than
  // a block), which join the last group.
  static constexpr std::size_t sums_cols = group_cols + tile_cols;
  static constexpr std::size_t rows_of_sums_in_16k =
      (16 * 1024 / (sums_cols * sizeof(typename Plan::batch::value_type))) / tile_rows * tile_rows;
  static constexpr bool buffers_sums = M >= 2 && N >= Plan::lanes && rows_of_sums_in_16k >= tile_rows;
  // Not where the epilogue only stores: the buffer would be a copy more (2%
  // of W2's fc1 without its bias and relu).
  template <class Output>
  static constexpr bool buffers_sums_for = buffers_sums && !requires { requires Output::stores_the_product; };

  // Rows of A per panel, copied or buffered: no more than M's whole tiles need.
  static constexpr std::size_t rows_in_tiles = (M + tile_rows - 1) / tile_rows * tile_rows;
  static constexpr std::size_t copied_rows = min_of(rows_in_tiles, rows_of_a_in_32k);
  static constexpr std::size_t buffered_rows = min_of(rows_in_tiles, rows_of_sums_in_16k);

  // Where the tiles of a group put their sums: the buffer, sums_cols wide,
  // its first row p0 and first column j0.
  template <class T>
  struct group_sums {
    T* sums;
    std::size_t p0, j0;
    template <class V>
    TAPELESS_ALWAYS_INLINE void put(std::size_t row, std::size_t col, const V& v) const noexcept {
      simd::store(sums + (row - p0) * sums_cols + (col - j0), v);
    }
  };

  // Columns [j0, end) of rows [p0, p0 + rows), from the buffer to the output:
  // whole batches, then the columns after them.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void put_group(const T* sums, const Output& out, std::size_t p0, std::size_t rows,
                                               std::size_t j0, std::size_t end) noexcept {
    using batch = typename Plan::batch;
    constexpr std::size_t w = Plan::lanes;
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = sums + r * sums_cols;
      std::size_t j = j0;
      for (; j + w <= end; j += w) out.put(p0 + r, j, batch::load_unaligned(row + (j - j0)));
      for (; j < end; ++j) out.put(p0 + r, j, row[j - j0]);
    }
  }

  // The share's column blocks over rows [p0, p0 + rows) of A, held at a;
  // where buffered, a group of blocks at a time through sums.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void share_columns(const T* a, const T* b, const Output& out, T* sums,
                                                   std::size_t p0, std::size_t rows, std::size_t part,
                                                   std::size_t parts) noexcept {
    constexpr std::size_t blocks = N / tile_cols;
    const std::size_t first = blocks * part / parts, last = blocks * (part + 1) / parts;
    if constexpr (buffers_sums_for<Output>) {
      // The last share always has a whole block (a tile is never wider than
      // C), so the columns after the blocks join its last group.
      constexpr std::size_t group_blocks = group_cols / tile_cols;
      for (std::size_t q0 = first; q0 < last; q0 += group_blocks) {
        const std::size_t q_end = q0 + group_blocks < last ? q0 + group_blocks : last;
        const group_sums<T> into{sums, p0, q0 * tile_cols};
        for (std::size_t q = q0; q < q_end; ++q) column_block<tile_cols>(a, b, into, p0, rows, q * tile_cols);
        std::size_t end = q_end * tile_cols;
        if constexpr (rest_cols > 0) {
          if (q_end == blocks) {
            column_block<rest_cols>(a, b, into, p0, rows, end);
            end = N;
          }
        }
        put_group(sums, out, p0, rows, q0 * tile_cols, end);
      }
    } else {
      for (std::size_t q = first; q < last; ++q) column_block<tile_cols>(a, b, out, p0, rows, q * tile_cols);
      if (part + 1 != parts) return;
      if constexpr (rest_cols > 0) column_block<rest_cols>(a, b, out, p0, rows, blocks * tile_cols);
    }
  }

  static constexpr std::size_t max_shares = N / tile_cols;
};

// C = A B^T by outer-product tiles over a copy of B^T made one column panel
// at a time (gemm_plan's pack_panels_of_b and pack_long_panels_of_b): A is
// M x K, B is stored N x K.
// Each panel (K x its width) is copied to the stack, then every row of A goes
// past it.
template <class Plan, std::size_t M, std::size_t K, std::size_t N>
struct panel_packed_gemm {
  using batch = typename Plan::batch;
  static constexpr std::size_t w = Plan::lanes;
  static constexpr std::size_t tile_rows = Plan::tile_rows, tile_vectors = Plan::tile_vectors;
  static constexpr std::size_t panel = tile_vectors * w, panels = N / panel;
  static constexpr std::size_t rest_vectors = N % panel / w, vector_columns = N / w * w;
  static constexpr std::size_t rest_rows = M % tile_rows;

  template <std::size_t R, std::size_t Vs, class V>
  using tile = outer_product_tile<R, Vs, V, K, K, 1, Vs * lanes_of<V>, Plan::unrolled>;

  // Columns j0 .. j0 + Vs pieces of V, every row.
  template <std::size_t Vs, class V, class T, class Output>
  TAPELESS_ALWAYS_INLINE static void column_block(const T* a, const T* b, const Output& out, std::size_t j0) noexcept {
    constexpr std::size_t width = Vs * lanes_of<V>;
    alignas(64) T packed[K * width];
    if constexpr (batch_value<V> && K % w == 0) {
      pack_transposed<batch, K, width>(b + j0 * K, packed);  // the panel's rows of B, by block transposes
    } else {
      for (std::size_t j = 0; j < width; ++j)
        for (std::size_t k = 0; k < K; ++k) packed[k * width + j] = b[(j0 + j) * K + k];
    }
    std::size_t i0 = 0;
    for (; i0 + tile_rows <= M; i0 += tile_rows) tile<tile_rows, Vs, V>::run(a + i0 * K, packed, out, i0, j0);
    if constexpr (rest_rows > 0) tile<rest_rows, Vs, V>::run(a + i0 * K, packed, out, i0, j0);
  }

  // Share `part` of `parts`: a run of whole panels, the last share also the rest.
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run_share(const T* a, const T* b, const Output& out, std::size_t part,
                                               std::size_t parts) noexcept {
    const std::size_t first = panels * part / parts, last = panels * (part + 1) / parts;
    for (std::size_t p = first; p < last; ++p) column_block<tile_vectors, batch>(a, b, out, p * panel);
    if (part + 1 != parts) return;
    if constexpr (rest_vectors > 0) column_block<rest_vectors, batch>(a, b, out, panels * panel);
    for (std::size_t j = vector_columns; j < N; ++j) column_block<1, T>(a, b, out, j);  // scalar tail
  }

  static constexpr std::size_t max_shares = panels;
};

// The kernel the plan chose for one shape, run in shares of its column blocks
// (of C, or of C^T where C is written transposed): gemm is the one share of one.
// A^T B (a weight's gradient, dY^T X) is shared by rows instead: each thread
// then updates the rows of W it read in the forward product X W^T (shared by
// W's rows), so a layer's weights and optimizer state stay in one core's cache
// from step to step instead of moving between cores twice a step
// (bench/results/threads.md).
template <std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB, class Arch, class T>
struct gemm_variant {
  using plan = gemm_plan<T, Arch, M, K, N, OpA, OpB>;
  using kernel = std::conditional_t<
      plan::pack_transposed_b, outer_product_gemm<plan, M, K, N, N, K, 1>,
      std::conditional_t<
          plan::pack_panels_of_b || plan::pack_long_panels_of_b, panel_packed_gemm<plan, M, K, N>,
          std::conditional_t<
              plan::dot_products, dot_product_gemm<plan, M, K, N>,
              std::conditional_t<
                  plan::transposed_output, outer_product_gemm<plan, N, K, M, M, K, 1>,
                  std::conditional_t<plan::transposed_output_for_width, outer_product_gemm<plan, N, K, M, M, 1, N>,
                                     std::conditional_t<OpA == op::none, outer_product_gemm<plan, M, K, N, N, K, 1>,
                                                        outer_product_gemm<plan, M, K, N, N, 1, M, true>>>>>>>;
  // How many shares the shape splits into (1: not worth splitting).
  static constexpr std::size_t max_shares = kernel::max_shares < 1 ? 1 : kernel::max_shares;

  template <class Epilogue>
  TAPELESS_ALWAYS_INLINE static void run_share(const T* a, const T* b, T* c, Epilogue& epilogue, std::size_t part,
                                               std::size_t parts) noexcept {
    const gemm_output<T, Epilogue, false> into_c{c, N, epilogue};
    if constexpr (plan::pack_transposed_b) {
      // B^T (K x N) copied to the stack by block transposes (each share its
      // own copy, at most 32 KiB); then as for A B.
      alignas(64) T packed[K * N];
      pack_transposed<typename plan::batch, K, N>(b, packed);
      kernel::run_share(a, packed, into_c, part, parts);
    } else if constexpr (plan::dot_products || plan::pack_panels_of_b || plan::pack_long_panels_of_b) {
      kernel::run_share(a, b, into_c, part, parts);
    } else if constexpr (plan::transposed_output || plan::transposed_output_for_width) {
      // C^T (N x M) = B (N x K as stored, or K x N read transposed) * A (K x M, as stored).
      const gemm_output<T, Epilogue, true> into_c_transposed{c, N, epilogue};
      kernel::run_share(b, a, into_c_transposed, part, parts);
    } else {
      // A(i, k) = a[i * K + k], or, stored K x M, op(A)(i, k) = a[k * M + i].
      kernel::run_share(a, b, into_c, part, parts);
    }
  }
};

}  // namespace detail

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// gemm, always inlined into its caller: for small products in a caller that
// is flattened itself (a compiled program's step over small tensors), where
// a call would cost as much as the product.
template <std::size_t M, std::size_t K, std::size_t N, op OpA = op::none, op OpB = op::none,
          class Arch = xsimd::default_arch, class T, class Epilogue = epilogue::store>
TAPELESS_ALWAYS_INLINE inline void gemm_inlined(const T* a, const T* b, T* c, Epilogue epilogue = {}) noexcept {
  static_assert(M > 0 && K > 0 && N > 0, "tl::simd::gemm<M, K, N>: every dimension must be at least 1");
  static_assert(std::is_floating_point_v<T>, "tl::simd::gemm: the element type must be float or double");
  detail::gemm_variant<M, K, N, OpA, OpB, Arch, T>::run_share(a, b, c, epilogue, 0, 1);
}

// C (M x N) = epilogue(op(A) (M x K) * op(B) (K x N)); see the top of this file.
template <std::size_t M, std::size_t K, std::size_t N, op OpA = op::none, op OpB = op::none,
          class Arch = xsimd::default_arch, class T, class Epilogue = epilogue::store>
TAPELESS_FLATTEN inline void gemm(const T* a, const T* b, T* c, Epilogue epilogue = {}) noexcept {
  gemm_inlined<M, K, N, OpA, OpB, Arch>(a, b, c, epilogue);
}

// Share `part` of `parts` of gemm<M, K, N, OpA, OpB, Arch>(a, b, c, epilogue):
// the shares, run on any threads, together write every element of C once, each
// by the same instructions as gemm (so the result is the same, bit for bit);
// they split C's column blocks (row blocks where the kernel writes C
// transposed), whole tiles only. gemm_shares<...> is how many are worth making.
template <std::size_t M, std::size_t K, std::size_t N, op OpA = op::none, op OpB = op::none,
          class Arch = xsimd::default_arch, class T, class Epilogue = epilogue::store>
TAPELESS_FLATTEN inline void gemm_share(const T* a, const T* b, T* c, Epilogue epilogue, std::size_t part,
                                        std::size_t parts) noexcept {
  static_assert(M > 0 && K > 0 && N > 0, "tl::simd::gemm<M, K, N>: every dimension must be at least 1");
  static_assert(std::is_floating_point_v<T>, "tl::simd::gemm: the element type must be float or double");
  detail::gemm_variant<M, K, N, OpA, OpB, Arch, T>::run_share(a, b, c, epilogue, part, parts);
}

template <std::size_t M, std::size_t K, std::size_t N, op OpA = op::none, op OpB = op::none,
          class Arch = xsimd::default_arch, class T = float>
inline constexpr std::size_t gemm_shares = detail::gemm_variant<M, K, N, OpA, OpB, Arch, T>::max_shares;

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
