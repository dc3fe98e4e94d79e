#pragma once
// The register tiles GEMM is made of. Each computes one small block of the
// product over the whole depth K with its accumulators in registers, then
// hands every accumulator to the output (which applies the epilogue and
// stores). Two shapes of tile cover the four transpose combinations without
// copying an operand:
//
// - outer_product_tile: for each k, broadcast Rows values of A and load
//   Vectors batches of a row of B; Rows x Vectors accumulators on C's rows.
//   Needs B's rows contiguous (B as stored, not transposed).
// - dot_product_tile: for each batch of k, load batches of Rows rows of A and
//   Cols rows of B (both contiguous in k when A is as stored and B is
//   transposed); Rows x Cols accumulators, each reduced to one element of C.
//
// The loops over registers are pack expansions in always-inlined functions,
// never lambdas: the compiler gives up inlining lambdas in large unrolled
// bodies, and an accumulator array behind a call lives in memory.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/keep_in_register.hpp>
#include <tapeless/simd/detail/lane_sums.hpp>
#include <tapeless/simd/detail/target_cpu.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::simd::detail {

// acc[r][v] = sum over k of A(r, k) * B(k, v * lanes .. + lanes), where
//   A(r, k) = a[r * ARowStride + k * AKStride]   (broadcast)
//   B(k, j) = b[k * Ldb + j]                     (loaded as V)
// V is a batch, or the scalar T for a column at the right edge. Accumulator
// I holds row I / Vectors, vector I % Vectors.
template <std::size_t Rows, std::size_t Vectors, class V, std::size_t K, std::size_t ARowStride,
          std::size_t AKStride, std::size_t Ldb, bool Unrolled>
struct outer_product_tile {
  static constexpr std::size_t w = lanes_of<V>;
  static constexpr std::size_t count = Rows * Vectors;

  template <class T, std::size_t... Vs, std::size_t... I>
  TAPELESS_ALWAYS_INLINE static void step(const T* a, const T* b, std::size_t k, V* acc,
                                          std::index_sequence<Vs...>, std::index_sequence<I...>) noexcept {
    const V bk[Vectors] = {simd::load<V>(b + k * Ldb + Vs * w)...};
    // Row by row: each broadcast is used by its Vectors FMAs and dies.
    ((acc[I] = multiply_add(V(a[(I / Vectors) * ARowStride + k * AKStride]), bk[I % Vectors], acc[I])), ...);
  }

  template <class T>
  TAPELESS_ALWAYS_INLINE static void step(const T* a, const T* b, std::size_t k, V* acc) noexcept {
    step(a, b, k, acc, std::make_index_sequence<Vectors>{}, std::make_index_sequence<count>{});
  }

  // A tile of few accumulators (a layer at batch 1: one or two) would be one
  // chain of K dependent FMAs, 4 cycles each; with the k loop unrolled, k is
  // split over `split` sets of accumulators (k mod split), added at the end.
  // Dense 16x16 at batch 1: 16 dependent FMAs became 4 chains of 4.
  static constexpr std::size_t split = [] {
    if (!batch_value<V> || count > 4) return std::size_t{1};
    const std::size_t s = count == 1 ? 4 : 8 / count;
    return K >= 2 * s ? s : std::size_t{1};
  }();

  // One row of A, contiguous in k, and one batch of B per k (a 16x16 layer
  // at batch 1, its W^T packed), float on AVX-512: two loads per FMA make
  // the tile load-bound, so A's values come from one load per 16 and
  // in-register splats (two shuffles each) instead of a broadcast load
  // each. Dense 16x16 at batch 1: 5.7 -> 4.5 ns per call (Zen 5). With two
  // or more batches per k, the loads are fewer per FMA and the shuffles cost
  // more than they save (W1's packed inference: 45 -> 48 ns): broadcasts
  // there.
  static constexpr bool splats_in_register = [] {
#if XSIMD_WITH_AVX512F
    if constexpr (batch_value<V>)
      return Rows == 1 && Vectors == 1 && AKStride == 1 && K % w == 0 &&
             std::is_same_v<typename V::value_type, float> &&
             std::is_base_of_v<xsimd::avx512f, typename V::arch_type>;
    else
#endif
      return false;
  }();

  // How many of each w values of A are splats, the rest broadcast loads.
  // Where a shuffle takes an FMA's port (Intel, target_cpu.hpp) all-splats
  // trade the load bound for a port-5 bound: half and half balances the two
  // (dense 16x16 on a Xeon: 8.3 ns all splats, 6.8 all broadcasts, 6.6 half).
  static constexpr std::size_t splats_per_block = shuffles_take_an_fma_port ? w / 2 : w;

  // Lane L of x in every lane: its 128-bit chunk to all four, then the lane within each.
  template <std::size_t L>
  TAPELESS_ALWAYS_INLINE static V splat(const V& x) noexcept {
#if XSIMD_WITH_AVX512F
    const __m512 chunk = _mm512_shuffle_f32x4(x, x, (L / 4) * 0x55);
    return _mm512_shuffle_ps(chunk, chunk, (L % 4) * 0x55);
#else
    return x;  // not reached: splats_in_register is false
#endif
  }

  template <class T, std::size_t K0, std::size_t... L>
  TAPELESS_ALWAYS_INLINE static void block_steps(const T* a, const T* b, V* acc, std::index_sequence<L...>) noexcept {
    const V x = V::load_unaligned(a + K0);
    ((step_with(a_value<L>(x, a + K0), b, K0 + L, acc + ((K0 + L) % split) * count,
                std::make_index_sequence<Vectors>{})),
     ...);
  }
  // Value L of the block at `block` (held in x) in every lane: a splat for
  // the first splats_per_block, a broadcast load for the others.
  template <std::size_t L, class T>
  TAPELESS_ALWAYS_INLINE static V a_value(const V& x, const T* block) noexcept {
    if constexpr (L < splats_per_block)
      return splat<L>(x);
    else
      return V(block[L]);
  }
  template <class T, std::size_t... Vs>
  TAPELESS_ALWAYS_INLINE static void step_with(const V& ak, const T* b, std::size_t k, V* acc,
                                               std::index_sequence<Vs...>) noexcept {
    ((acc[Vs] = multiply_add(ak, simd::load<V>(b + k * Ldb + Vs * w), acc[Vs])), ...);
  }
  template <class T, std::size_t... Blocks>
  TAPELESS_ALWAYS_INLINE static void splat_steps(const T* a, const T* b, V* acc, std::index_sequence<Blocks...>) noexcept {
    (block_steps<T, Blocks * w>(a, b, acc, std::make_index_sequence<w>{}), ...);
  }

  template <class T, std::size_t... Kk>
  TAPELESS_ALWAYS_INLINE static void all_steps(const T* a, const T* b, V* acc, std::index_sequence<Kk...>) noexcept {
    if constexpr (splats_in_register)
      splat_steps(a, b, acc, std::make_index_sequence<K / w>{});
    else
      (step(a, b, Kk, acc + (Kk % split) * count), ...);
  }

  template <class T, std::size_t... S>
  TAPELESS_ALWAYS_INLINE static void split_steps(const T* a, const T* b, std::size_t k, V* acc,
                                                 std::index_sequence<S...>) noexcept {
    (step(a, b, k + S, acc + S * count), ...);
  }

  template <std::size_t... I>
  TAPELESS_ALWAYS_INLINE static void add_sets(V* acc, std::index_sequence<I...>) noexcept {
    // Pairwise: sets 0 + 1 and 2 + 3, then the two sums.
    if constexpr (split >= 4) ((acc[2 * count + I] += acc[3 * count + I]), ...);
    if constexpr (split >= 2) ((acc[I] += acc[count + I]), ...);
    if constexpr (split >= 4) ((acc[I] += acc[2 * count + I]), ...);
  }

  template <class T, class Output, std::size_t... I>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out, std::size_t i0,
                                         std::size_t j0, std::index_sequence<I...>) noexcept {
    static_assert(split == 1 || split == 2 || split == 4);
    V acc[count * split];
    for (std::size_t i = 0; i < count * split; ++i) acc[i] = V(T(0));
    if constexpr (Unrolled) {
      all_steps(a, b, acc, std::make_index_sequence<K>{});
    } else {
      for (std::size_t k = 0; k + split <= K; k += split)
        split_steps(a, b, k, acc, std::make_index_sequence<split>{});
      // From a constant: g++ 12 at -O2 took the rest loop continuing the one
      // above for one that could run long enough to overflow its addresses
      // (-Waggressive-loop-optimizations, 512x1792x28 A^T B with SSE2).
      for (std::size_t k = K / split * split; k < K; ++k) step(a, b, k, acc);
    }
    if constexpr (split > 1) add_sets(acc, std::index_sequence<I...>{});
    (out.put(i0 + I / Vectors, j0 + (I % Vectors) * w, acc[I]), ...);
  }

  // The tile whose first element is P(i0, j0); a and b point at A(i0, 0) and B(0, j0).
  template <class T, class Output>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out, std::size_t i0,
                                         std::size_t j0) noexcept {
    run(a, b, out, i0, j0, std::make_index_sequence<count>{});
  }
};

// sum(r, c) = sum over k of a[r * K + k] * b[c * K + k]: Rows rows of A and
// Cols rows of B, each contiguous over k. The body runs on batches of k, one
// accumulator per (r, c), reduced lanes-at-a-time at the end (lane_sums);
// the last K % lanes products are added in scalar.
template <std::size_t Rows, std::size_t Cols, class Batch, std::size_t K, bool Unrolled>
struct dot_product_tile {
  static constexpr std::size_t w = Batch::size;
  static constexpr std::size_t k_body = K / w * w;  // the rest is the scalar tail
  static constexpr std::size_t count = Rows * Cols;
  using T = typename Batch::value_type;

  // One batch of k: Rows batches of A held in registers, then column by
  // column one batch of B and its Rows FMAs. (Cols batches of B at once
  // would need Rows * Cols + Rows + Cols registers.)
  template <std::size_t... R, std::size_t... C>
  TAPELESS_ALWAYS_INLINE static void step(const T* a, const T* b, std::size_t k, Batch* acc,
                                          std::index_sequence<R...>, std::index_sequence<C...>) noexcept {
    Batch ak[Rows] = {Batch::load_unaligned(a + R * K + k)...};
    // Kept even with one column, unlike B's batch below: without the hint
    // there W1's step at batch 32 ran 7% slower (bench/results/batch1.md).
    (keep_in_register(ak[R]), ...);
    (column(ak, b + C * K + k, acc + C * Rows, std::make_index_sequence<Rows>{}), ...);
  }

  template <std::size_t... R>
  TAPELESS_ALWAYS_INLINE static void column(const Batch* ak, const T* b, Batch* acc, std::index_sequence<R...>) noexcept {
    Batch bk = Batch::load_unaligned(b);
    // Only where the batch feeds several FMAs: a batch used once is best
    // folded into its FMA (one row of A, e.g. a layer at batch 1, where the
    // hint made 200 separate loads of W1's training step on AVX2).
    if constexpr (Rows > 1) keep_in_register(bk);
    ((acc[R] = xsimd::fma(ak[R], bk, acc[R])), ...);
  }

  TAPELESS_ALWAYS_INLINE static void step(const T* a, const T* b, std::size_t k, Batch* acc) noexcept {
    step(a, b, k, acc, std::make_index_sequence<Rows>{}, std::make_index_sequence<Cols>{});
  }

  template <std::size_t... Q>
  TAPELESS_ALWAYS_INLINE static void all_steps(const T* a, const T* b, Batch* acc, std::index_sequence<Q...>) noexcept {
    (step(a, b, Q * w, acc), ...);
  }

  static constexpr std::size_t groups = (count + w - 1) / w;  // of w accumulators, for lane_sums

  // sum[g * w .. g * w + w) = lane sums of accumulators g * w .. (zeros past count).
  template <std::size_t G, std::size_t... L>
  TAPELESS_ALWAYS_INLINE static void reduce_group(Batch* acc, T* sum, std::index_sequence<L...>) noexcept {
    Batch group[w] = {(G * w + L < count ? acc[(G * w + L) % count] : Batch(T(0)))...};
    lane_sums(group).store_aligned(sum + G * w);
  }
  template <std::size_t... G>
  TAPELESS_ALWAYS_INLINE static void reduce(Batch* acc, T* sum, std::index_sequence<G...>) noexcept {
    (reduce_group<G>(acc, sum, std::make_index_sequence<w>{}), ...);
  }

  // One row, whole groups: each group's lane sums go to the output from the
  // register (no round trip through the stack).
  template <class Output, std::size_t... G>
  TAPELESS_ALWAYS_INLINE static void put_groups(Batch* acc, const Output& out, std::size_t i0, std::size_t j0,
                                                std::index_sequence<G...>) noexcept {
    (put_group<G>(acc, out, i0, j0, std::make_index_sequence<w>{}), ...);
  }
  template <std::size_t G, class Output, std::size_t... L>
  TAPELESS_ALWAYS_INLINE static void put_group(Batch* acc, const Output& out, std::size_t i0, std::size_t j0,
                                               std::index_sequence<L...>) noexcept {
    Batch group[w] = {acc[G * w + L]...};
    out.put(i0, j0 + G * w, lane_sums(group));
  }

  template <class Output, std::size_t... I>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out, std::size_t i0,
                                         std::size_t j0, std::index_sequence<I...>) noexcept {
    // A row of whole batches of k (the batch-1 layers): the sums stay in registers.
    if constexpr (Rows == 1 && k_body == K && (count % w == 0 || count == 1)) {
      Batch acc[count] = {(void(I), Batch(T(0)))...};
      if constexpr (Unrolled)
        all_steps(a, b, acc, std::make_index_sequence<k_body / w>{});
      else
        for (std::size_t k = 0; k < k_body; k += w) step(a, b, k, acc);
      if constexpr (count == 1)
        out.put(i0, j0, xsimd::hadd(acc[0]));  // one output (a layer of width 1): no tree of zeros
      else
        put_groups(acc, out, i0, j0, std::make_index_sequence<groups>{});
    } else {
      run_through_memory(a, b, out, i0, j0, std::index_sequence<I...>{});
    }
  }

  template <class Output, std::size_t... I>
  TAPELESS_ALWAYS_INLINE static void run_through_memory(const T* a, const T* b, const Output& out, std::size_t i0,
                                                        std::size_t j0, std::index_sequence<I...>) noexcept {
    // Accumulator I is (r, c) = (I % Rows, I / Rows): the order step() uses.
    alignas(64) T sum[groups * w];
    if constexpr (k_body > 0) {
      Batch acc[count] = {(void(I), Batch(T(0)))...};
      if constexpr (Unrolled)
        all_steps(a, b, acc, std::make_index_sequence<k_body / w>{});
      else
        for (std::size_t k = 0; k < k_body; k += w) step(a, b, k, acc);
      reduce(acc, sum, std::make_index_sequence<groups>{});
    } else {
      ((sum[I] = T(0)), ...);
    }
    if constexpr (k_body < K)
      for (std::size_t k = k_body; k < K; ++k) ((sum[I] += a[(I % Rows) * K + k] * b[(I / Rows) * K + k]), ...);
    if constexpr (Rows == 1) {
      // One row: the sums of consecutive columns lie side by side, so whole
      // batches go to the output (and its epilogue runs on batches: a tanh
      // after a batch-1 layer is then xsimd's, not libm's per element).
      constexpr std::size_t whole = count / w;
      [&]<std::size_t... G>(std::index_sequence<G...>) {
        (out.put(i0, j0 + G * w, Batch::load_aligned(sum + G * w)), ...);
      }(std::make_index_sequence<whole>{});
      for (std::size_t c = whole * w; c < count; ++c) out.put(i0, j0 + c, sum[c]);
    } else {
      (out.put(i0 + I % Rows, j0 + I / Rows, sum[I]), ...);
    }
  }

  // The tile whose first element is C(i0, j0); a and b point at rows i0 of A and j0 of B.
  template <class Output>
  TAPELESS_ALWAYS_INLINE static void run(const T* a, const T* b, const Output& out, std::size_t i0,
                                         std::size_t j0) noexcept {
    run(a, b, out, i0, j0, std::make_index_sequence<count>{});
  }
};

}  // namespace tapeless::simd::detail
