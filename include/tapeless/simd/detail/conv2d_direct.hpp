#pragma once
// Direct convolution kernels: every output element summed in registers from
// the input where it lies, no copy. Vectorized along the image row where the
// stride is 1 and every tap of the kernel row falls inside the input (the
// interior); the border columns, and strides above 1, go element by element.
// For groups with few output channels (depthwise), where a GEMM tile would
// have one row and the column copy would multiply the input by KH * KW.

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/im2col.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>

namespace tapeless::simd::detail {

using index = std::ptrdiff_t;

// Output columns [first, last) whose taps are all inside the input, for a
// stride of 1: ow - P >= 0 and ow - P + (KW - 1) D < W.
template <conv2d_shape S>
constexpr valid_range forward_interior() {
  const index first = index(S.padding), last = index(S.width + S.padding) - index(S.span_width() - 1);
  const index clipped = last < index(S.out_width()) ? last : index(S.out_width());
  return {std::size_t(first), std::size_t(clipped > first ? clipped : first)};
}

// Input columns [first, last) whose taps all land on an output, for a stride
// of 1: iw + P - (KW - 1) D >= 0 and iw + P < OW.
template <conv2d_shape S>
constexpr valid_range input_gradient_interior() {
  const index first_raw = index(S.span_width() - 1) - index(S.padding);
  const index first = first_raw > 0 ? first_raw : 0;
  const index last_raw = index(S.out_width()) - index(S.padding);
  const index last = last_raw < index(S.width) ? last_raw : index(S.width);
  return {std::size_t(first), std::size_t(last > first ? last : first)};
}

// out(oh, ow .. ow + lanes) for one output channel: x at the group's first
// input channel of the image, w at the channel's weights [Cg, KH, KW]. V is a
// batch (interior columns, stride 1) or the scalar T (anywhere).
template <conv2d_shape S, class V, class T>
[[gnu::always_inline]] inline V direct_output(const T* x, const T* w, index oh, index ow) noexcept {
  constexpr index H = S.height, W = S.width, St = S.stride, P = S.padding, D = S.dilation;
  V acc[2] = {V(T(0)), V(T(0))};  // two chains: the adds overlap
  for (std::size_t c = 0; c < S.group_in_channels(); ++c)
    for (index kh = 0; kh < index(S.kernel_height); ++kh) {
      const index ih = oh * St + kh * D - P;
      if (ih < 0 || ih >= H) continue;
      const T* row = x + (index(c) * H + ih) * W;
      const T* taps = w + (index(c) * index(S.kernel_height) + kh) * index(S.kernel_width);
      for (index kw = 0; kw < index(S.kernel_width); ++kw) {
        const index iw = ow * St + kw * D - P;
        if constexpr (!batch_value<V>)
          if (iw < 0 || iw >= W) continue;
        acc[kw & 1] = multiply_add(V(taps[kw]), simd::load<V>(row + iw), acc[kw & 1]);
      }
    }
  return acc[0] + acc[1];
}

template <conv2d_shape S, class Arch, class T, class Epilogue>
inline void conv2d_direct(const T* input, const T* weight, T* output, Epilogue& epilogue) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = batch::size, OH = S.out_height(), OW = S.out_width();
  constexpr valid_range interior = forward_interior<S>();
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t o = 0; o < S.out_channels; ++o) {
      const std::size_t g = o / S.group_out_channels(), row = n * S.out_channels + o;
      const T* x = input + (n * S.in_channels + g * S.group_in_channels()) * S.height * S.width;
      const T* w = weight + o * S.group_depth();
      T* y = output + row * OH * OW;
      auto finish = [&](std::size_t oh, std::size_t ow, auto v) {
        T* p = y + oh * OW + ow;
        simd::store(p, static_cast<decltype(v)>(epilogue(v, output_at<T, decltype(v)>{p, row, oh * OW + ow})));
      };
      for (std::size_t oh = 0; oh < OH; ++oh) {
        std::size_t ow = 0;
        if constexpr (S.stride == 1 && interior.last >= interior.first + L) {
          for (; ow < interior.first; ++ow) finish(oh, ow, direct_output<S, T>(x, w, index(oh), index(ow)));
          for (; ow + L <= interior.last; ow += L) finish(oh, ow, direct_output<S, batch>(x, w, index(oh), index(ow)));
        }
        for (; ow < OW; ++ow) finish(oh, ow, direct_output<S, T>(x, w, index(oh), index(ow)));
      }
    }
}

// dX(ih, iw .. iw + lanes) for one input channel c (cl within its group g):
// the sum over the group's output channels and taps whose output reads it.
template <conv2d_shape S, class V, class T>
[[gnu::always_inline]] inline V direct_input_gradient(const T* dy, const T* w, std::size_t cl, index ih,
                                                      index iw) noexcept {
  constexpr index OH = S.out_height(), OW = S.out_width(), St = S.stride, P = S.padding, D = S.dilation;
  constexpr index KH = S.kernel_height, KW = S.kernel_width;
  V acc[2] = {V(T(0)), V(T(0))};
  for (std::size_t ol = 0; ol < S.group_out_channels(); ++ol)
    for (index kh = 0; kh < KH; ++kh) {
      const index sh = ih + P - kh * D;  // oh * St
      if (sh < 0 || sh % St != 0 || sh / St >= OH) continue;
      const T* row = dy + (index(ol) * OH + sh / St) * OW;
      const T* taps = w + ((index(ol) * index(S.group_in_channels()) + index(cl)) * KH + kh) * KW;
      for (index kw = 0; kw < KW; ++kw) {
        const index sw = iw + P - kw * D;  // ow * St
        if constexpr (!batch_value<V>)
          if (sw < 0 || sw % St != 0 || sw / St >= OW) continue;
        acc[kw & 1] = multiply_add(V(taps[kw]), simd::load<V>(row + sw / St), acc[kw & 1]);
      }
    }
  return acc[0] + acc[1];
}

template <conv2d_shape S, class Arch, class T>
inline void conv2d_input_gradient_direct(const T* output_gradient, const T* weight, T* input_gradient) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = batch::size, H = S.height, W = S.width, OHOW = S.output_plane();
  constexpr valid_range interior = input_gradient_interior<S>();
  for (std::size_t n = 0; n < S.batch; ++n)
    for (std::size_t c = 0; c < S.in_channels; ++c) {
      const std::size_t g = c / S.group_in_channels(), cl = c % S.group_in_channels();
      const T* dy = output_gradient + (n * S.out_channels + g * S.group_out_channels()) * OHOW;
      const T* w = weight + g * S.group_out_channels() * S.group_depth();
      T* dx = input_gradient + (n * S.in_channels + c) * H * W;
      for (std::size_t ih = 0; ih < H; ++ih) {
        std::size_t iw = 0;
        if constexpr (S.stride == 1 && interior.last >= interior.first + L) {
          for (; iw < interior.first; ++iw) dx[ih * W + iw] = direct_input_gradient<S, T>(dy, w, cl, index(ih), index(iw));
          for (; iw + L <= interior.last; iw += L)
            direct_input_gradient<S, batch>(dy, w, cl, index(ih), index(iw)).store_unaligned(dx + ih * W + iw);
        }
        for (; iw < W; ++iw) dx[ih * W + iw] = direct_input_gradient<S, T>(dy, w, cl, index(ih), index(iw));
      }
    }
}

// dW(o, cl, kh, kw) = sum over images and output positions of dY * X at the
// tap: one dot product per weight, batches along the row where stride is 1.
template <conv2d_shape S, class Arch, class T>
inline void conv2d_weight_gradient_direct(const T* input, const T* output_gradient, T* weight_gradient) noexcept {
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t L = batch::size, H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width();
  constexpr std::size_t St = S.stride, P = S.padding, D = S.dilation;
  for (std::size_t o = 0; o < S.out_channels; ++o) {
    const std::size_t g = o / S.group_out_channels();
    for (std::size_t cl = 0; cl < S.group_in_channels(); ++cl)
      for (std::size_t kh = 0; kh < S.kernel_height; ++kh) {
        const valid_range rows = valid_outputs(H, OH, St, P, kh * D);
        for (std::size_t kw = 0; kw < S.kernel_width; ++kw) {
          const valid_range cols = valid_outputs(W, OW, St, P, kw * D);
          batch acc[2] = {batch(T(0)), batch(T(0))};
          T tail = 0;
          for (std::size_t n = 0; n < S.batch; ++n) {
            const T* x = input + (n * S.in_channels + g * S.group_in_channels() + cl) * H * W;
            const T* dy = output_gradient + (n * S.out_channels + o) * OH * OW;
            for (std::size_t oh = rows.first; oh < rows.last; ++oh) {
              // dy_row[i] and x_row[i * St] meet at output column cols.first + i.
              const T* dy_row = dy + oh * OW + cols.first;
              const T* x_row = x + (oh * St + kh * D - P) * W + (cols.first * St + kw * D - P);
              const std::size_t count = cols.last - cols.first;
              std::size_t i = 0;
              if constexpr (St == 1) {
                for (; i + 2 * L <= count; i += 2 * L) {
                  acc[0] = xsimd::fma(batch::load_unaligned(dy_row + i), batch::load_unaligned(x_row + i), acc[0]);
                  acc[1] = xsimd::fma(batch::load_unaligned(dy_row + i + L), batch::load_unaligned(x_row + i + L), acc[1]);
                }
                for (; i + L <= count; i += L)
                  acc[0] = xsimd::fma(batch::load_unaligned(dy_row + i), batch::load_unaligned(x_row + i), acc[0]);
              }
              for (; i < count; ++i) tail += dy_row[i] * x_row[i * St];
            }
          }
          weight_gradient[((o * S.group_in_channels() + cl) * S.kernel_height + kh) * S.kernel_width + kw] =
              xsimd::hadd(acc[0] + acc[1]) + tail;
        }
      }
  }
}

}  // namespace tapeless::simd::detail
