#pragma once
// im2col and col2im: the rows of a convolution's unrolled input. Row
// (c, kh, kw) of the column matrix holds, for every output position
// (oh, ow), the input element that kernel tap multiplies there,
//
//   col[(c * KH + kh) * KW + kw][oh * OW + ow] = in[c][oh * S - P + kh * D][ow * S - P + kw * D]
//
// or zero where that falls in the padding; the row order is the order of a
// weight's [C, KH, KW] block, so that out = W_g col is one GEMM. Rows are
// Ld >= OH * OW elements apart; the columns past OH * OW are zeros. col2im
// adds the rows back into the input they came from (the input gradient).

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <cstddef>
#include <utility>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Output positions along one axis whose input index o * S - P + tap lies in
// [0, extent): the range [first, last) of o, with tap the offset kh * D.
struct valid_range {
  std::size_t first, last;
};
constexpr valid_range valid_outputs(std::size_t extent, std::size_t outputs, std::size_t stride,
                                    std::size_t padding, std::size_t tap) {
  // o * S + tap >= P  and  o * S + tap < extent + P.
  const std::size_t first = tap >= padding ? 0 : (padding - tap + stride - 1) / stride;
  const std::size_t bound = extent + padding > tap ? (extent + padding - tap + stride - 1) / stride : 0;
  const std::size_t last = bound < outputs ? bound : outputs;
  return {first < last ? first : last, last};
}

// dst[0 .. n) = src[0 .. n): whole batches, then (n at least a batch) one
// last batch overlapping the previous one, else element by element.
template <class Arch, class T>
TAPELESS_ALWAYS_INLINE inline void copy_row(const T* src, T* dst, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  std::size_t i = 0;
  for (; i + batch::size <= n; i += batch::size) batch::load_unaligned(src + i).store_unaligned(dst + i);
  if (i == n) return;
  if (n >= batch::size) {
    batch::load_unaligned(src + n - batch::size).store_unaligned(dst + n - batch::size);
    return;
  }
  for (; i < n; ++i) dst[i] = src[i];
}

// 0, 1, 2, ... as a batch: to mask the lanes of a last, overlapping batch.
template <class Arch, class T>
TAPELESS_ALWAYS_INLINE inline xsimd::batch<T, Arch> lane_indices() noexcept {
  using batch = xsimd::batch<T, Arch>;
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    alignas(64) const T index[batch::size] = {T(I)...};
    return batch::load_aligned(index);
  }(std::make_index_sequence<batch::size>{});
}

// dst[0 .. n) += src[0 .. n): whole batches, then one last batch ending at n
// with the lanes already added masked to zero.
template <class Arch, class T>
TAPELESS_ALWAYS_INLINE inline void add_row(const T* src, T* dst, std::size_t n) noexcept {
  using batch = xsimd::batch<T, Arch>;
  std::size_t i = 0;
  for (; i + batch::size <= n; i += batch::size)
    (batch::load_unaligned(dst + i) + batch::load_unaligned(src + i)).store_unaligned(dst + i);
  if (i == n) return;
  if (n >= batch::size) {
    const std::size_t last = n - batch::size;
    const batch fresh = xsimd::select(lane_indices<Arch, T>() >= batch(T(i - last)), batch::load_unaligned(src + last),
                                      batch(T(0)));
    (batch::load_unaligned(dst + last) + fresh).store_unaligned(dst + last);
    return;
  }
  for (; i < n; ++i) dst[i] += src[i];
}

template <class T>
TAPELESS_ALWAYS_INLINE inline void fill_zero(T* dst, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) dst[i] = T(0);
}

// With stride 1 and OW == W (a "same" convolution), the input a tap reads
// for consecutive output positions is one contiguous run of the plane,
// j + offset, except at the row ends, where the run wraps into the padding
// of the neighbouring row: those few elements are set apart (zeroed). Rows
// of a plane as long as these are then copied and added as single runs
// instead of OH short ones with scalar tails.
template <conv2d_shape S>
inline constexpr bool flat_taps = S.stride == 1 && S.out_width() == S.width;

// The column matrix of one image and one group: in points at the group's
// first input channel, col has S.group_depth() rows of Ld elements.
template <conv2d_shape S, std::size_t Ld, class Arch, class T>
inline void im2col(const T* in, T* col) noexcept {
  constexpr std::size_t H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width();
  constexpr std::size_t St = S.stride, P = S.padding, D = S.dilation;
  static_assert(Ld >= OH * OW);
  for (std::size_t c = 0; c < S.group_in_channels(); ++c)
    for (std::size_t kh = 0; kh < S.kernel_height; ++kh)
      for (std::size_t kw = 0; kw < S.kernel_width; ++kw) {
        T* row = col + ((c * S.kernel_height + kh) * S.kernel_width + kw) * Ld;
        const T* plane = in + c * H * W;
        const valid_range rows = valid_outputs(H, OH, St, P, kh * D);
        const valid_range cols = valid_outputs(W, OW, St, P, kw * D);
        if constexpr (flat_taps<S>) {
          if (rows.first == rows.last || cols.first == cols.last) {
            fill_zero(row, Ld);
            continue;
          }
          const std::size_t first = rows.first * OW + cols.first, last = (rows.last - 1) * OW + cols.last;
          fill_zero(row, first);
          // Output j reads the plane at j + (kh D - P) W + kw D - P.
          copy_row<Arch>(plane + (rows.first + kh * D - P) * W + (cols.first + kw * D - P), row + first, last - first);
          fill_zero(row + last, Ld - last);
          for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
            fill_zero(row + oh * OW, cols.first);
            fill_zero(row + oh * OW + cols.last, OW - cols.last);
          }
          continue;
        }
        fill_zero(row, rows.first * OW);
        for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
          T* out = row + oh * OW;
          // First input column read: cols.first * St + kw * D - P (>= 0 by construction).
          const T* src = plane + (oh * St + kh * D - P) * W + (cols.first * St + kw * D - P);
          fill_zero(out, cols.first);
          if constexpr (St == 1)
            copy_row<Arch>(src, out + cols.first, cols.last - cols.first);
          else
            for (std::size_t ow = cols.first; ow < cols.last; ++ow) out[ow] = src[(ow - cols.first) * St];
          fill_zero(out + cols.last, OW - cols.last);
        }
        fill_zero(row + rows.last * OW, (OH - rows.last) * OW + (Ld - OH * OW));
      }
}

// in += the column matrix col folded back (each element added to the input
// element it was copied from in im2col). in: the group's first input channel.
// With flat_taps, col's elements that fall in the padding are zeroed first
// (col is scratch), so that each row is added as one run.
template <conv2d_shape S, std::size_t Ld, class Arch, class T>
inline void col2im_add(T* col, T* in) noexcept {
  constexpr std::size_t H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width();
  constexpr std::size_t St = S.stride, P = S.padding, D = S.dilation;
  for (std::size_t c = 0; c < S.group_in_channels(); ++c)
    for (std::size_t kh = 0; kh < S.kernel_height; ++kh)
      for (std::size_t kw = 0; kw < S.kernel_width; ++kw) {
        T* row = col + ((c * S.kernel_height + kh) * S.kernel_width + kw) * Ld;
        T* plane = in + c * H * W;
        const valid_range rows = valid_outputs(H, OH, St, P, kh * D);
        const valid_range cols = valid_outputs(W, OW, St, P, kw * D);
        if constexpr (flat_taps<S>) {
          if (rows.first == rows.last || cols.first == cols.last) continue;
          for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
            fill_zero(row + oh * OW, cols.first);
            fill_zero(row + oh * OW + cols.last, OW - cols.last);
          }
          const std::size_t first = rows.first * OW + cols.first, last = (rows.last - 1) * OW + cols.last;
          add_row<Arch>(row + first, plane + (rows.first + kh * D - P) * W + (cols.first + kw * D - P), last - first);
          continue;
        }
        for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
          const T* src = row + oh * OW + cols.first;
          T* dst = plane + (oh * St + kh * D - P) * W + (cols.first * St + kw * D - P);
          if constexpr (St == 1)
            add_row<Arch>(src, dst, cols.last - cols.first);
          else
            for (std::size_t ow = cols.first; ow < cols.last; ++ow) dst[(ow - cols.first) * St] += src[ow - cols.first];
        }
      }
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd::detail
