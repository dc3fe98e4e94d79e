#pragma once
// Convolution as GEMM over an unrolled input (im2col), image by image and
// group by group, on the GEMM layer's own register tiles:
//
//   forward          Y_g (Og x OH*OW)     = W_g (Og x Cg*KH*KW) * col (Cg*KH*KW x OH*OW)
//   input gradient   dcol (Cg*KH*KW x ..) = W_g^T * dY_g,  then col2im adds dcol into dX
//   weight gradient  dW_g^T (Cg*KH*KW x Og) += col * dY_g^T, written transposed at the end
//
// The column matrix's rows are padded with zeros to whole batches
// (padded_plane), so the tiles never fall back to scalar columns; the
// padding columns of a result are computed and dropped.

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/gemm_plan.hpp>
#include <tapeless/simd/detail/im2col.hpp>
#include <tapeless/simd/detail/transpose.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/gemm.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// OH * OW rounded up to whole batches of T on Arch.
template <conv2d_shape S, class T, class Arch>
inline constexpr std::size_t padded_plane = (S.output_plane() + lanes<T, Arch> - 1) / lanes<T, Arch> * lanes<T, Arch>;

// Where the forward tiles put a piece: the output of one image and group
// (Og rows of OH * OW), dropping the padding columns; the epilogue sees the
// output as the matrix [N * O, OH * OW].
template <class T, class Epilogue, std::size_t Plane>
struct conv2d_output {
  T* y;               // the group's first output channel of the image
  std::size_t row0;   // its row in [N * O, OH * OW]
  Epilogue& epilogue;

  template <class V>
  TAPELESS_ALWAYS_INLINE void put(std::size_t row, std::size_t col, const V& v) const noexcept {
    if constexpr (Plane % lanes_of<V> == 0) {
      finish(row, col, v);
    } else {
      if (col + lanes_of<V> <= Plane) return finish(row, col, v);
      alignas(64) T lane[lanes_of<V>];
      simd::store(lane, v);
      for (std::size_t l = 0; col + l < Plane; ++l) finish(row, col + l, lane[l]);
    }
  }

  template <class V>
  TAPELESS_ALWAYS_INLINE void finish(std::size_t row, std::size_t col, const V& v) const noexcept {
    T* p = y + row * Plane + col;
    simd::store(p, static_cast<V>(epilogue(v, output_at<T, V>{p, row0 + row, col})));
  }
};

// outer_product_gemm's tiles with the rows outside and the columns inside:
// each band of tile rows of the product goes along the whole of B before
// the next, so that the product's rows are written (streamed out) a band at
// a time, not all at once; B is then read once per band, so it should lie
// in L1.
template <class Gemm, class T, class Output>
TAPELESS_ALWAYS_INLINE inline void outer_product_gemm_by_bands(const T* a, const T* b, const Output& out) noexcept {
  using batch = typename Gemm::batch;
  constexpr std::size_t rows = Gemm::tile_rows, vectors = Gemm::tile_vectors, panel = vectors * Gemm::w;
  static_assert(Gemm::rest_rows == 0 && Gemm::vector_columns == Gemm::columns, "whole tiles of rows, whole batches");
  for (std::size_t i0 = 0; i0 < Gemm::rows; i0 += rows) {
    const T* a_band = a + i0 * Gemm::a_row_stride;
    for (std::size_t j0 = 0; j0 < Gemm::panel_columns; j0 += panel)
      Gemm::template tile<rows, vectors, batch>::run(a_band, b + j0, out, i0, j0);
    if constexpr (Gemm::rest_vectors > 0)
      Gemm::template tile<rows, Gemm::rest_vectors, batch>::run(a_band, b + Gemm::panel_columns, out, i0,
                                                                Gemm::panel_columns);
  }
}

// A shallow group's forward product (its column matrix in L1: a first
// layer's 9 x 784) goes band by band (outer_product_gemm_by_bands): the
// Og output rows, a plane apart, are then written a tile's rows at a time,
// not Og streams at once. (conv1 1->32 at batch 64, AVX-512: 68-76% of the
// FMA peak panel by panel, 74-83% band by band; quick runs under load.)
template <conv2d_shape S, class T, class Arch>
inline constexpr bool forward_by_bands =
    S.group_depth() * padded_plane<S, T, Arch> * sizeof(T) <= 32 * 1024 &&
    S.group_out_channels() % gemm_plan<T, Arch, S.group_out_channels(), S.group_depth(), padded_plane<S, T, Arch>,
                                       op::none, op::none>::tile_rows == 0;

template <conv2d_shape S, class Arch, class T, class Epilogue>
inline void conv2d_im2col(const T* input, const T* weight, T* output, T* col, Epilogue& epilogue) noexcept {
  constexpr std::size_t Og = S.group_out_channels(), depth = S.group_depth(), Ld = padded_plane<S, T, Arch>;
  using plan = gemm_plan<T, Arch, Og, depth, Ld, op::none, op::none>;
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t g = 0; g < S.groups; ++g) {
      im2col<S, Ld, Arch>(input + (n * S.in_channels + g * S.group_in_channels()) * S.height * S.width, col);
      const std::size_t row0 = n * S.out_channels + g * Og;
      const conv2d_output<T, Epilogue, S.output_plane()> out{output + row0 * S.output_plane(), row0, epilogue};
      using gemm = outer_product_gemm<plan, Og, depth, Ld, Ld, depth, 1>;
      if constexpr (forward_by_bands<S, T, Arch>)
        outer_product_gemm_by_bands<gemm>(weight + g * Og * depth, col, out);
      else
        gemm::run(weight + g * Og * depth, col, out);
    }
}

// The input gradient's GEMM, dcol (depth x Ld) = W_g^T dY_g (in blocks of
// K = Block rows of dY_g): the GEMM's plan, except that a shallow group
// whose depth the tile of two batches would split in two (a first layer's
// 9 taps with AVX2: 5 + 4 rows) takes one tile of all its rows, one batch
// wide, so that each batch of dY_g is loaded once. (conv1 1->32 at batch
// 64, AVX2: 60% of the FMA peak as 5 + 4 rows, 72% as 9 x 1; quick runs
// under load.) Only with 16 registers: with 32 the two-batch tile holds 14
// rows, and a deeper group one batch wide would load a broadcast per FMA.
template <conv2d_shape S, class T, class Arch, std::size_t Block>
struct input_gradient_plan
    : gemm_plan<T, Arch, S.group_depth(), Block, padded_plane<S, T, Arch>, op::transpose, op::none> {
  using base = gemm_plan<T, Arch, S.group_depth(), Block, padded_plane<S, T, Arch>, op::transpose, op::none>;
  static constexpr bool one_batch_wide =
      base::registers == 16 && base::tile_rows != S.group_depth() && S.group_depth() + 2 <= base::registers;
  static constexpr std::size_t tile_rows = one_batch_wide ? S.group_depth() : base::tile_rows;
  static constexpr std::size_t tile_vectors = one_batch_wide ? 1 : base::tile_vectors;
};

// Rows of dY_g per block of the input gradient's GEMM. When the group's
// whole depth is one tile two batches wide (a first layer's 9 taps with
// AVX-512), each panel of dY_g is read once, all Og rows at once: Og
// streams from memory. In blocks of 8 rows, accumulated into dcol (which
// stays in L1), it streams 8 at a time. (conv1 1->32 at batch 64, AVX-512:
// 44-56% of the FMA peak in one block, 58-66% in blocks of 8, 56-65% of 16;
// with AVX2's tile one batch wide, 72% in one block, 64% in blocks of 8;
// quick runs under load.)
template <conv2d_shape S, class T, class Arch>
inline constexpr std::size_t input_gradient_block = [] {
  constexpr std::size_t Og = S.group_out_channels();
  using plan = input_gradient_plan<S, T, Arch, Og>;
  return plan::tile_rows == S.group_depth() && plan::tile_vectors > 1 && Og > 8 && Og % 8 == 0 ? std::size_t{8}
                                                                                                 : Og;
}();

template <conv2d_shape S, class Arch, class T>
inline void conv2d_input_gradient_im2col(const T* output_gradient, const T* weight, T* input_gradient,
                                         T* scratch) noexcept {
  constexpr std::size_t Og = S.group_out_channels(), depth = S.group_depth(), Ld = padded_plane<S, T, Arch>;
  constexpr std::size_t plane = S.output_plane(), image = S.in_channels * S.height * S.width;
  constexpr std::size_t block = input_gradient_block<S, T, Arch>;
  using plan = input_gradient_plan<S, T, Arch, block>;
  using gemm = outer_product_gemm<plan, depth, block, Ld, Ld, 1, depth>;
  T* dcol = scratch;             // depth x Ld
  T* dy = scratch + depth * Ld;  // Og x Ld: dY_g with its rows padded (unless they are whole batches)
  epilogue::store store;
  epilogue::accumulate accumulate;
  const gemm_output<T, epilogue::store, false> into_dcol{dcol, Ld, store};
  const gemm_output<T, epilogue::accumulate, false> onto_dcol{dcol, Ld, accumulate};
  for (std::size_t n = 0; n < S.batch; ++n) {
    T* dx = input_gradient + n * image;
    fill_zero(dx, image);
    for (std::size_t g = 0; g < S.groups; ++g) {
      const T* dy_g = output_gradient + (n * S.out_channels + g * Og) * plane;
      if constexpr (Ld != plane)
        for (std::size_t o = 0; o < Og; ++o) {
          copy_row<Arch>(dy_g + o * plane, dy + o * Ld, plane);
          fill_zero(dy + o * Ld + plane, Ld - plane);
        }
      // dcol(k, j) = sum over o of W_g(o, k) dY_g(o, j): W_g read transposed where it lies.
      const T* w_g = weight + g * Og * depth;
      const T* dy_rows = Ld == plane ? dy_g : dy;
      gemm::run(w_g, dy_rows, into_dcol);
      for (std::size_t o = block; o < Og; o += block) gemm::run(w_g + o * depth, dy_rows + o * Ld, onto_dcol);
      col2im_add<S, Ld, Arch>(dcol, dx + g * S.group_in_channels() * S.height * S.width);
    }
  }
}

// dyt (Ld x Ogp) = dy^T for dy (Og x Plane), zeros past Og and Plane: whole
// L x L blocks by in-register transposes, the edges element by element.
template <class Arch, std::size_t Og, std::size_t Plane, std::size_t Ld, std::size_t Ogp, class T>
inline void transpose_output_gradient(const T* dy, T* dyt) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = batch::size, whole_o = Og / L * L, whole_j = Plane / L * L;
  for (std::size_t j0 = 0; j0 < whole_j; j0 += L)
    for (std::size_t o0 = 0; o0 < whole_o; o0 += L)
      [&]<std::size_t... R>(std::index_sequence<R...>) {
        batch rows[L] = {batch::load_unaligned(dy + (o0 + R) * Plane + j0)...};
        transpose(rows);
        (rows[R].store_unaligned(dyt + (j0 + R) * Ogp + o0), ...);
      }(std::make_index_sequence<L>{});
  for (std::size_t j = 0; j < Ld; ++j)
    for (std::size_t o = j < whole_j ? whole_o : 0; o < Ogp; ++o)
      dyt[j * Ogp + o] = o < Og && j < Plane ? dy[o * Plane + j] : T(0);
}

// The shallow weight gradient's dot products, dW_g (Og x depth) += dY_g
// (Og x Ld) col^T: one tile spans all depth columns of dW_g, so that dY_g is
// read once (the GEMM's own tile splits conv1's 9 columns 6 + 3 with AVX-512,
// 4 + 4 + 1 with AVX2, and reads dY_g two or three times), with as many rows
// as the registers hold besides (Rows x depth accumulators, Rows batches of
// dY_g, one of col): 3 x 9 with 32 registers, 1 x 9 with 16. (conv1 1->32
// at batch 64, 9 taps split against all at once: AVX-512 65-68% of the FMA
// peak against 69-74%, AVX2 57% against 70%; quick runs under load.)
template <class Plan, std::size_t Depth>
struct weight_gradient_dot_plan : Plan {
  static constexpr bool whole_depth = Depth + 2 <= Plan::registers;
  static constexpr std::size_t dot_cols = whole_depth ? Depth : Plan::dot_cols;
  static constexpr std::size_t dot_rows = whole_depth ? (Plan::registers - 1) / (Depth + 1) : Plan::dot_rows;
};

template <conv2d_shape S, class T, class Arch>
TAPELESS_ALWAYS_INLINE inline void weight_gradient_by_dot_products(const T* dy, const T* col, T* dw) noexcept {
  constexpr std::size_t Og = S.group_out_channels(), depth = S.group_depth(), Ld = padded_plane<S, T, Arch>;
  using plan = gemm_plan<T, Arch, Og, Ld, depth, op::none, op::transpose>;
  epilogue::accumulate accumulate;
  if constexpr (plan::dot_products) {
    const gemm_output<T, epilogue::accumulate, false> onto_dw{dw, depth, accumulate};
    dot_product_gemm<weight_gradient_dot_plan<plan, depth>, Og, Ld, depth>::run(dy, col, onto_dw);
  } else {
    gemm<Og, Ld, depth, op::none, op::transpose, Arch>(dy, col, dw, accumulate);
  }
}

// The weight gradient of a shallow group (Cg KH KW under four batches, as a
// first layer's 1 x 3 x 3) by dot products along OH*OW: dW_g (Og x depth) +=
// dY_g (Og x Ld) col^T. Deeper ones by outer-product tiles on dY_g^T, whose
// transposition (about half an instruction per element of dY_g) then costs
// under an eighth of the FMAs (depth / lanes per element), and which need no
// reduction across lanes at the end of every element. (conv1 1->32 3x3 at
// batch 64: dot products 72% of the FMA peak, outer products 32%; conv2
// 32->64: 51% against 71%; quick runs on a shared core.)
template <conv2d_shape S, class T, class Arch>
inline constexpr bool weight_gradient_by_outer_products = S.group_depth() >= 4 * lanes<T, Arch>;

template <conv2d_shape S, class T, class Arch>
inline constexpr std::size_t weight_gradient_im2col_scratch = [] {
  constexpr std::size_t Ld = padded_plane<S, T, Arch>, L = lanes<T, Arch>;
  constexpr std::size_t Ogp = (S.group_out_channels() + L - 1) / L * L;
  if constexpr (weight_gradient_by_outer_products<S, T, Arch>)
    return S.group_depth() * Ld + Ld * Ogp + S.group_depth() * Ogp;
  else
    return S.group_depth() * Ld + S.group_out_channels() * Ld;
}();

// dW_g^T (depth x Ogp) = sum over images of col (depth x Ld) * dY_g^T (Ld x
// Ogp), accumulated in scratch and written transposed into dW_g once; or
// dW_g += dY_g col^T image by image (weight_gradient_by_outer_products).
template <conv2d_shape S, class Arch, class T>
inline void conv2d_weight_gradient_im2col(const T* input, const T* output_gradient, T* weight_gradient,
                                          T* scratch) noexcept {
  constexpr std::size_t Og = S.group_out_channels(), depth = S.group_depth(), plane = S.output_plane();
  constexpr std::size_t Ld = padded_plane<S, T, Arch>, Ogp = (Og + lanes<T, Arch> - 1) / lanes<T, Arch> * lanes<T, Arch>;
  T* col = scratch;  // depth x Ld
  if constexpr (weight_gradient_by_outer_products<S, T, Arch>) {
    using plan = gemm_plan<T, Arch, depth, Ld, Ogp, op::none, op::none>;
    T* dyt = col + depth * Ld;  // Ld x Ogp
    T* dwt = dyt + Ld * Ogp;    // depth x Ogp
    epilogue::accumulate accumulate;
    const gemm_output<T, epilogue::accumulate, false> into_dwt{dwt, Ogp, accumulate};
    for (std::size_t g = 0; g < S.groups; ++g) {
      fill_zero(dwt, depth * Ogp);
      for (std::size_t n = 0; n < S.batch; ++n) {
        im2col<S, Ld, Arch>(input + (n * S.in_channels + g * S.group_in_channels()) * S.height * S.width, col);
        transpose_output_gradient<Arch, Og, plane, Ld, Ogp>(output_gradient + (n * S.out_channels + g * Og) * plane,
                                                            dyt);
        outer_product_gemm<plan, depth, Ld, Ogp, Ogp, Ld, 1>::run(col, dyt, into_dwt);
      }
      T* dw = weight_gradient + g * Og * depth;
      for (std::size_t o = 0; o < Og; ++o)
        for (std::size_t k = 0; k < depth; ++k) dw[o * depth + k] = dwt[k * Ogp + o];
    }
  } else {
    T* dy = col + depth * Ld;  // Og x Ld: dY_g with its rows padded (unless they are whole batches)
    fill_zero(weight_gradient, S.weight_size());
    for (std::size_t n = 0; n < S.batch; ++n)
      for (std::size_t g = 0; g < S.groups; ++g) {
        im2col<S, Ld, Arch>(input + (n * S.in_channels + g * S.group_in_channels()) * S.height * S.width, col);
        const T* dy_g = output_gradient + (n * S.out_channels + g * Og) * plane;
        if constexpr (Ld != plane)
          for (std::size_t o = 0; o < Og; ++o) {
            copy_row<Arch>(dy_g + o * plane, dy + o * Ld, plane);
            fill_zero(dy + o * Ld + plane, Ld - plane);
          }
        weight_gradient_by_dot_products<S, T, Arch>(Ld == plane ? dy_g : dy, col, weight_gradient + g * Og * depth);
      }
  }
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd::detail
