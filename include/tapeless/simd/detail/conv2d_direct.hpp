#pragma once
// Direct convolution kernels: no unrolled input, each tap of the kernel read
// where it lies in one padded copy of the input. For groups with few output
// channels (depthwise), where a GEMM tile would be one row deep and im2col
// would copy the input KH * KW times over.
//
// The copy makes every tap a contiguous run. The input planes of one image
// and group are copied, zero-padded, and split into stride x stride phases:
// phase (a, b) holds the padded plane's elements (i * S + a, j * S + b), in
// rows of Wq = ceil(Wp / S). Output (oh, ow) then reads, for tap (kh, kw),
// phase ((kh D) % S, (kw D) % S) at (oh + kh D / S, ow + kw D / S): the same
// offset for every output position, so outputs are computed flat, oh * Wq +
// ow, a batch at a time, with no edge tests. The columns ow >= OW of each
// row are computed and dropped (forward) or held at zero (gradients).

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/gemm_plan.hpp>
#include <tapeless/simd/detail/im2col.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>

namespace tapeless::simd::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Sizes and offsets of the phase-split copy, in elements of T.
template <conv2d_shape S, class T, class Arch>
struct direct_layout {
  static constexpr std::size_t L = lanes<T, Arch>;
  static constexpr std::size_t St = S.stride, D = S.dilation, P = S.padding;
  static constexpr std::size_t KH = S.kernel_height, KW = S.kernel_width, taps = KH * KW;
  static constexpr std::size_t Hp = S.height + 2 * P, Wp = S.width + 2 * P;
  static constexpr std::size_t Hq = (Hp + St - 1) / St, Wq = (Wp + St - 1) / St;
  // Output positions computed: OH rows of Wq, whole batches.
  static constexpr std::size_t span = (S.out_height() * Wq + L - 1) / L * L;
  // A phase plane holds Hq x Wq and whatever the last batch of the farthest tap reads.
  static constexpr std::size_t farthest_tap = (KH - 1) * D / St * Wq + (KW - 1) * D / St;
  static constexpr std::size_t phase_plane = (max_of(Hq * Wq, span + farthest_tap) + L - 1) / L * L;
  static constexpr std::size_t channel_block = St * St * phase_plane;  // one input channel, every phase
  static constexpr std::size_t scratch = S.group_in_channels() * channel_block + span;

  // Where tap (kh, kw) reads, from the start of a channel's block.
  static constexpr std::size_t tap_offset(std::size_t kh, std::size_t kw) {
    return ((kh * D) % St * St + (kw * D) % St) * phase_plane + (kh * D / St) * Wq + kw * D / St;
  }
};

// The phase-split, zero-padded copy of Cg input planes (x: the group's first).
template <conv2d_shape S, class Layout, class Arch, class T>
inline void split_phases(const T* x, T* phases) noexcept {
  constexpr std::size_t H = S.height, W = S.width, St = Layout::St, P = Layout::P, Wq = Layout::Wq;
  for (std::size_t c = 0; c < S.group_in_channels(); ++c)
    for (std::size_t a = 0; a < St; ++a)
      for (std::size_t b = 0; b < St; ++b) {
        T* phase = phases + c * Layout::channel_block + (a * St + b) * Layout::phase_plane;
        const T* plane = x + c * H * W;
        // Phase columns j whose padded column j * St + b - P is inside [0, W).
        const valid_range cols = valid_outputs(W, Wq, St, P, b);
        const valid_range rows = valid_outputs(H, Layout::Hq, St, P, a);
        fill_zero(phase, rows.first * Wq);
        for (std::size_t i = rows.first; i < rows.last; ++i) {
          T* out = phase + i * Wq;
          const T* src = plane + (i * St + a - P) * W + (cols.first * St + b - P);
          fill_zero(out, cols.first);
          if constexpr (St == 1)
            copy_row<Arch>(src, out + cols.first, cols.last - cols.first);
          else
            for (std::size_t j = cols.first; j < cols.last; ++j) out[j] = src[(j - cols.first) * St];
          fill_zero(out + cols.last, Wq - cols.last);
        }
        fill_zero(phase + rows.last * Wq, Layout::phase_plane - rows.last * Wq);
      }
}

// The inverse for gradients: dx (the group's first input plane) = the
// unpadded part of the phase-split planes.
template <conv2d_shape S, class Layout, class Arch, class T>
inline void merge_phases(const T* phases, T* dx) noexcept {
  constexpr std::size_t H = S.height, W = S.width, St = Layout::St, P = Layout::P, Wq = Layout::Wq;
  for (std::size_t c = 0; c < S.group_in_channels(); ++c)
    for (std::size_t r = 0; r < H; ++r) {
      T* out = dx + (c * H + r) * W;
      const std::size_t a = (r + P) % St, i = (r + P) / St;
      if constexpr (St == 1) {
        copy_row<Arch>(phases + c * Layout::channel_block + i * Wq + P, out, W);
      } else {
        for (std::size_t col = 0; col < W; ++col) {
          const std::size_t b = (col + P) % St, j = (col + P) / St;
          out[col] = phases[c * Layout::channel_block + (a * St + b) * Layout::phase_plane + i * Wq + j];
        }
      }
    }
}

// dy' = one output plane with rows Wq apart, zeros in columns OW .. Wq and up to span.
template <conv2d_shape S, class Layout, class Arch, class T>
inline void spread_output_plane(const T* dy, T* spread) noexcept {
  constexpr std::size_t OH = S.out_height(), OW = S.out_width(), Wq = Layout::Wq;
  for (std::size_t oh = 0; oh < OH; ++oh) {
    copy_row<Arch>(dy + oh * OW, spread + oh * Wq, OW);
    fill_zero(spread + oh * Wq + OW, Wq - OW);
  }
  fill_zero(spread + OH * Wq, Layout::span - OH * Wq);
}

// Blocks of this many batches of outputs share each broadcast weight: enough
// independent FMA chains to cover the latency, few enough for the registers.
inline constexpr std::size_t direct_block = 4;

// acc[u] = sum over the group's taps of w * phases at the tap + j0 + u * L.
template <class Layout, class Batch, std::size_t Block, class T, std::size_t... U>
TAPELESS_ALWAYS_INLINE inline void direct_chunks(const T* phases, const T* w, std::size_t j0, Batch* acc,
                                                 std::size_t channels, std::index_sequence<U...>) noexcept {
  constexpr std::size_t L = Batch::size;
  ((acc[U] = Batch(T(0))), ...);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t kh = 0; kh < Layout::KH; ++kh)
      for (std::size_t kw = 0; kw < Layout::KW; ++kw) {
        const Batch wv(w[(c * Layout::KH + kh) * Layout::KW + kw]);
        const T* p = phases + c * Layout::channel_block + Layout::tap_offset(kh, kw) + j0;
        ((acc[U] = xsimd::fma(wv, Batch::load_unaligned(p + U * L), acc[U])), ...);
      }
}

template <conv2d_shape S, class Arch, class T, class Epilogue>
inline void conv2d_direct(const T* input, const T* weight, T* output, T* scratch, Epilogue& epilogue) noexcept {
  using layout = direct_layout<S, T, Arch>;
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = layout::L, B = direct_block, OH = S.out_height(), OW = S.out_width(), Wq = layout::Wq;
  constexpr std::size_t Cg = S.group_in_channels(), Og = S.group_out_channels();
  T* phases = scratch;
  T* plane = scratch + Cg * layout::channel_block;  // one output channel, rows Wq apart
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t g = 0; g < S.groups; ++g) {
      split_phases<S, layout, Arch>(input + (n * S.in_channels + g * Cg) * S.height * S.width, phases);
      for (std::size_t ol = 0; ol < Og; ++ol) {
        const std::size_t o = g * Og + ol, row = n * S.out_channels + o;
        const T* w = weight + o * S.group_depth();
        std::size_t j0 = 0;
        for (; j0 + B * L <= layout::span; j0 += B * L) {
          batch acc[B];
          direct_chunks<layout, batch, B>(phases, w, j0, acc, Cg, std::make_index_sequence<B>{});
          for (std::size_t u = 0; u < B; ++u) acc[u].store_unaligned(plane + j0 + u * L);
        }
        for (; j0 < layout::span; j0 += L) {
          batch acc[1];
          direct_chunks<layout, batch, 1>(phases, w, j0, acc, Cg, std::make_index_sequence<1>{});
          acc[0].store_unaligned(plane + j0);
        }
        // Drop the columns past OW; the epilogue sees each output once.
        T* y = output + row * OH * OW;
        for (std::size_t oh = 0; oh < OH; ++oh) {
          std::size_t ow = 0;
          for (; ow + L <= OW; ow += L) {
            T* p = y + oh * OW + ow;
            const batch v = batch::load_unaligned(plane + oh * Wq + ow);
            static_cast<batch>(epilogue(v, output_at<T, batch>{p, row, oh * OW + ow})).store_unaligned(p);
          }
          for (; ow < OW; ++ow) {
            T* p = y + oh * OW + ow;
            *p = static_cast<T>(epilogue(plane[oh * Wq + ow], output_at<T, T>{p, row, oh * OW + ow}));
          }
        }
      }
    }
}

// dX: each tap's weight times dY', added into the phase-split gradient at the
// tap's offset (the transpose of the forward read), then merged back.
template <conv2d_shape S, class Arch, class T>
inline void conv2d_input_gradient_direct(const T* output_gradient, const T* weight, T* input_gradient,
                                         T* scratch) noexcept {
  using layout = direct_layout<S, T, Arch>;
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = layout::L, Cg = S.group_in_channels(), Og = S.group_out_channels();
  T* phases = scratch;
  T* spread = scratch + Cg * layout::channel_block;
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t g = 0; g < S.groups; ++g) {
      fill_zero(phases, Cg * layout::channel_block);
      for (std::size_t ol = 0; ol < Og; ++ol) {
        const std::size_t o = g * Og + ol;
        spread_output_plane<S, layout, Arch>(output_gradient + (n * S.out_channels + o) * S.output_plane(), spread);
        const T* w = weight + o * S.group_depth();
        for (std::size_t c = 0; c < Cg; ++c)
          for (std::size_t kh = 0; kh < layout::KH; ++kh)
            for (std::size_t kw = 0; kw < layout::KW; ++kw) {
              const batch wv(w[(c * layout::KH + kh) * layout::KW + kw]);
              T* p = phases + c * layout::channel_block + layout::tap_offset(kh, kw);
              for (std::size_t j = 0; j < layout::span; j += L)
                xsimd::fma(wv, batch::load_unaligned(spread + j), batch::load_unaligned(p + j)).store_unaligned(p + j);
            }
      }
      merge_phases<S, layout, Arch>(phases, input_gradient + (n * S.in_channels + g * Cg) * S.height * S.width);
    }
}

// dW(o, c, kh, kw) = sum over images of dY' . (phases at the tap): taps_per_pass
// dot products at once share each batch of dY'.
template <conv2d_shape S, class Layout, class Batch, std::size_t Taps, class T, std::size_t... U>
TAPELESS_ALWAYS_INLINE inline void weight_gradient_taps(const T* phases, const T* spread, T* dw,
                                                        std::size_t first_tap, std::index_sequence<U...>) noexcept {
  constexpr std::size_t L = Batch::size;
  Batch acc[Taps] = {(void(U), Batch(T(0)))...};
  const T* p[Taps] = {(phases + Layout::tap_offset((first_tap + U) / Layout::KW, (first_tap + U) % Layout::KW))...};
  for (std::size_t j = 0; j < Layout::span; j += L) {
    const Batch d = Batch::load_unaligned(spread + j);
    ((acc[U] = xsimd::fma(d, Batch::load_unaligned(p[U] + j), acc[U])), ...);
  }
  ((dw[first_tap + U] += xsimd::hadd(acc[U])), ...);
}

template <conv2d_shape S, class Arch, class T>
inline void conv2d_weight_gradient_direct(const T* input, const T* output_gradient, T* weight_gradient,
                                          T* scratch) noexcept {
  using layout = direct_layout<S, T, Arch>;
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t Cg = S.group_in_channels(), Og = S.group_out_channels(), taps = layout::taps;
  constexpr std::size_t per_pass = 8, whole = taps / per_pass * per_pass;
  T* phases = scratch;
  T* spread = scratch + Cg * layout::channel_block;
  fill_zero(weight_gradient, S.weight_size());
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t g = 0; g < S.groups; ++g) {
      split_phases<S, layout, Arch>(input + (n * S.in_channels + g * Cg) * S.height * S.width, phases);
      for (std::size_t ol = 0; ol < Og; ++ol) {
        const std::size_t o = g * Og + ol;
        spread_output_plane<S, layout, Arch>(output_gradient + (n * S.out_channels + o) * S.output_plane(), spread);
        for (std::size_t c = 0; c < Cg; ++c) {
          T* dw = weight_gradient + (o * Cg + c) * taps;
          const T* pc = phases + c * layout::channel_block;
          for (std::size_t t = 0; t < whole; t += per_pass)
            weight_gradient_taps<S, layout, batch, per_pass>(pc, spread, dw, t, std::make_index_sequence<per_pass>{});
          if constexpr (whole < taps)
            weight_gradient_taps<S, layout, batch, taps - whole>(pc, spread, dw, whole,
                                                                 std::make_index_sequence<taps - whole>{});
        }
      }
    }
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd::detail
