#pragma once
// 2-D pooling, PyTorch's semantics (NCHW, ceil_mode off), for static shapes:
//
//   constexpr simd::pool2d_shape p{.batch = 64, .channels = 32, .height = 28, .width = 28, .kernel = 2};
//   simd::max_pool2d<p>(x, y, argmax);                  // y [64, 32, 14, 14], argmax int32, same shape
//   simd::max_pool2d_backward<p>(dy, argmax, dx);       // dx = dL/dx, overwritten
//   simd::avg_pool2d<p>(x, y);  simd::avg_pool2d_backward<p>(dy, dx);
//   simd::global_avg_pool2d<64, 32, 7, 7>(x, y);        // y [64, 32]
//   simd::global_avg_pool2d_backward<64, 32, 7, 7>(dy, dx);
//
// A window is kernel x kernel, moved by stride (0, the default: kernel) over
// the input padded by `padding` on each side. Max pooling pads with -inf and
// stores, for each output, the index of its maximum within the input plane
// (ih * width + iw): the first maximum in row-major window order, or the
// last NaN, as torch does. Average pooling counts the padding in the divisor
// (count_include_pad, torch's default), so every window divides by kernel^2.
//
// Max pooling's backward scatters through the stored indices rather than
// recomputing them from the input: it reads 4 bytes per output instead of the
// kernel^2 inputs of each window, needs the input not to be kept (a
// max_pool2d after a fused ReLU reads a value that is never stored), and
// gives ties exactly the element the forward pass chose.
//
// Pointers need no alignment; outputs must not overlap inputs. Nothing
// allocates or throws.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace tapeless::simd {

struct pool2d_shape {
  std::size_t batch = 1, channels = 1, height = 1, width = 1;
  std::size_t kernel = 1, stride = 0, padding = 0;  // stride 0: the kernel size

  constexpr std::size_t step() const { return stride == 0 ? kernel : stride; }
  // As torch requires: padding at most half the window, the window fits in the padded input.
  constexpr bool valid() const {
    return batch > 0 && channels > 0 && height > 0 && width > 0 && kernel > 0 && 2 * padding <= kernel &&
           kernel <= height + 2 * padding && kernel <= width + 2 * padding;
  }
  constexpr std::size_t out_height() const { return (height + 2 * padding - kernel) / step() + 1; }
  constexpr std::size_t out_width() const { return (width + 2 * padding - kernel) / step() + 1; }
  constexpr std::size_t planes() const { return batch * channels; }
  constexpr std::size_t input_size() const { return planes() * height * width; }
  constexpr std::size_t output_size() const { return planes() * out_height() * out_width(); }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

namespace detail {

template <pool2d_shape S, class T>
constexpr bool check_pool2d() {
  static_assert(S.valid(),
                "tl::simd::pool2d: invalid pool2d_shape: every size must be positive, padding at most half the "
                "kernel, and the kernel must fit in the padded input");
  static_assert(std::is_floating_point_v<T>, "tl::simd::pool2d: the element type must be float or double");
  static_assert(S.height * S.width <= std::size_t(std::numeric_limits<std::int32_t>::max()),
                "tl::simd::max_pool2d: the input plane is too large for int32 indices");
  return true;  // the messages above are the only ones: nothing below depends on the shape's validity to compile
}

// The rows (or columns) of a window clipped to the input: [first, last).
struct window_range {
  std::size_t first, last;
};
constexpr window_range window(std::size_t out, std::size_t step, std::size_t padding, std::size_t kernel,
                              std::size_t extent) {
  const std::size_t start = out * step, end = start + kernel;  // in padded coordinates
  const std::size_t first = start > padding ? start - padding : 0;
  const std::size_t last = end - padding < extent ? end - padding : extent;
  return {first, last};
}

template <class T>
TAPELESS_ALWAYS_INLINE inline void zero(T* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) p[i] = T(0);
}

// The maximum of one window and its index, rows and columns [first, last):
// branch-free (a branch per element mispredicts on data in no order).
template <class T>
struct window_maximum {
  T value = -std::numeric_limits<T>::infinity();
  std::size_t at;

  TAPELESS_ALWAYS_INLINE void take(T v, std::size_t index) noexcept {
    const bool better = (v > value) | (v != v);  // a NaN wins, as in torch; | is not a branch
    value = better ? v : value;
    at = better ? index : at;
  }
};

// max_pool2d on whole windows (padding 0), float. For each output row, the
// window maximum at every column of the row, a batch of columns at a time:
// tap (kh, kw) of consecutive columns lies in consecutive memory, so every
// tap is one contiguous load (gathering each window's taps cost 2-6x more on
// Zen 5: a 16-lane gather is many loads). With stride s only every s-th
// column is an output, picked from the batches afterwards. Lanes past the
// last window read on into the next rows (or planes) and are never picked; a
// row whose batches would read past the input takes the scalar path. The running maximum and its index (exact in
// float lanes: planes under 2^24 elements) are kept by selects, not branches.
template <pool2d_shape S, class Arch>
inline void max_pool2d_rows(const float* input, float* output, std::int32_t* indices) noexcept {
  using batch = xsimd::batch<float, Arch>;
  constexpr std::size_t L = batch::size, H = S.height, W = S.width, K = S.kernel, step = S.step();
  constexpr std::size_t OH = S.out_height(), OW = S.out_width();
  constexpr std::size_t columns = (OW - 1) * step + 1;  // window starts in a row
  constexpr std::size_t batches = (columns + L - 1) / L;
  alignas(64) static constexpr auto lane = [] {
    std::array<float, L> l{};
    for (std::size_t i = 0; i < L; ++i) l[i] = float(i);
    return l;
  }();
  const batch lane_offset = batch::load_aligned(lane.data());
  alignas(64) float row_best[batches * L];
  alignas(64) std::int32_t row_at[batches * L];
  // How far past a row's first window corner its batches read.
  constexpr std::size_t reach = batches * L + (K - 1) * (W + 1);
  for (std::size_t plane = 0; plane < S.planes(); ++plane) {
    const float* x = input + plane * H * W;
    float* y = output + plane * OH * OW;
    std::int32_t* at = indices + plane * OH * OW;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      const std::size_t row = oh * step * W;
      if (plane * H * W + row + reach <= S.input_size()) [[likely]] {
        for (std::size_t b = 0; b < batches; ++b) {
          const std::size_t c0 = row + b * L;
          const batch corner = batch(float(c0)) + lane_offset;
          batch best(-std::numeric_limits<float>::infinity()), best_at = corner;
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) {
              const batch v = batch::load_unaligned(x + c0 + kh * W + kw);
              const auto better = (v > best) | xsimd::isnan(v);  // a NaN wins, as in torch
              best = xsimd::select(better, v, best);
              best_at = xsimd::select(better, corner + batch(float(kh * W + kw)), best_at);
            }
          best.store_aligned(row_best + b * L);
          xsimd::to_int(best_at).store_aligned(row_at + b * L);
        }
        for (std::size_t ow = 0; ow < OW; ++ow) {
          y[oh * OW + ow] = row_best[ow * step];
          at[oh * OW + ow] = row_at[ow * step];
        }
      } else {
        for (std::size_t ow = 0; ow < OW; ++ow) {
          const std::size_t first = row + ow * step;
          window_maximum<float> m;
          m.at = first;
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) m.take(x[first + kh * W + kw], first + kh * W + kw);
          y[oh * OW + ow] = m.value;
          at[oh * OW + ow] = std::int32_t(m.at);
        }
      }
    }
  }
}

}  // namespace detail

// output [N, C, OH, OW] = window maxima of input [N, C, H, W]; indices: where each lies in its plane.
template <pool2d_shape S, class Arch = xsimd::default_arch, class T>
inline void max_pool2d(const T* input, T* output, std::int32_t* indices) noexcept {
  static_assert(detail::check_pool2d<S, T>());
  constexpr std::size_t H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width(), K = S.kernel;
  // Rows of contiguous loads where they pay: float (int32 lanes as wide as
  // its lanes), whole windows, rows of at least a batch of columns, a row's
  // batches small enough for the stack, and indices that float holds exactly
  // (they ride along in float lanes, selected by the same masks).
  constexpr std::size_t lanes = xsimd::batch<float, Arch>::size;
  if constexpr (std::is_same_v<T, float> && S.padding == 0 && lanes > 1 && W <= 4096 &&
                H * W < (std::size_t{1} << 24)) {
    detail::max_pool2d_rows<S, Arch>(input, output, indices);
    return;
  }
  for (std::size_t plane = 0; plane < S.planes(); ++plane) {
    const T* x = input + plane * H * W;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      const detail::window_range rows = detail::window(oh, S.step(), S.padding, K, H);
      for (std::size_t ow = 0; ow < OW; ++ow) {
        detail::window_maximum<T> m;
        if constexpr (S.padding == 0) {
          // Whole windows: fixed trip counts, unrolled.
          const std::size_t first = oh * S.step() * W + ow * S.step();
          m.at = first;
          for (std::size_t kh = 0; kh < K; ++kh)
            for (std::size_t kw = 0; kw < K; ++kw) m.take(x[first + kh * W + kw], first + kh * W + kw);
        } else {
          const detail::window_range cols = detail::window(ow, S.step(), S.padding, K, W);
          m.at = rows.first * W + cols.first;
          for (std::size_t ih = rows.first; ih < rows.last; ++ih)
            for (std::size_t iw = cols.first; iw < cols.last; ++iw) m.take(x[ih * W + iw], ih * W + iw);
        }
        const std::size_t out = (plane * OH + oh) * OW + ow;
        output[out] = m.value;
        indices[out] = static_cast<std::int32_t>(m.at);
      }
    }
  }
}

// input_gradient [N, C, H, W] = dL/dinput: each output's gradient added where its maximum was.
template <pool2d_shape S, class Arch = xsimd::default_arch, class T>
inline void max_pool2d_backward(const T* output_gradient, const std::int32_t* indices, T* input_gradient) noexcept {
  static_assert(detail::check_pool2d<S, T>());
  constexpr std::size_t in_plane = S.height * S.width, out_plane = S.out_height() * S.out_width();
  detail::zero(input_gradient, S.input_size());
  for (std::size_t plane = 0; plane < S.planes(); ++plane) {
    T* dx = input_gradient + plane * in_plane;
    for (std::size_t j = 0; j < out_plane; ++j)
      dx[indices[plane * out_plane + j]] += output_gradient[plane * out_plane + j];
  }
}

// output = window means of input, padding counted in the divisor (kernel^2).
template <pool2d_shape S, class Arch = xsimd::default_arch, class T>
inline void avg_pool2d(const T* input, T* output) noexcept {
  static_assert(detail::check_pool2d<S, T>());
  constexpr std::size_t H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width();
  constexpr T scale = T(1) / T(S.kernel * S.kernel);
  for (std::size_t plane = 0; plane < S.planes(); ++plane) {
    const T* x = input + plane * H * W;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      const detail::window_range rows = detail::window(oh, S.step(), S.padding, S.kernel, H);
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const detail::window_range cols = detail::window(ow, S.step(), S.padding, S.kernel, W);
        T sum = 0;
        for (std::size_t ih = rows.first; ih < rows.last; ++ih)
          for (std::size_t iw = cols.first; iw < cols.last; ++iw) sum += x[ih * W + iw];
        output[(plane * OH + oh) * OW + ow] = sum * scale;
      }
    }
  }
}

// input_gradient = dL/dinput: each output's gradient / kernel^2 added over its window.
template <pool2d_shape S, class Arch = xsimd::default_arch, class T>
inline void avg_pool2d_backward(const T* output_gradient, T* input_gradient) noexcept {
  static_assert(detail::check_pool2d<S, T>());
  constexpr std::size_t H = S.height, W = S.width, OH = S.out_height(), OW = S.out_width();
  constexpr T scale = T(1) / T(S.kernel * S.kernel);
  detail::zero(input_gradient, S.input_size());
  for (std::size_t plane = 0; plane < S.planes(); ++plane) {
    T* dx = input_gradient + plane * H * W;
    for (std::size_t oh = 0; oh < OH; ++oh) {
      const detail::window_range rows = detail::window(oh, S.step(), S.padding, S.kernel, H);
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const detail::window_range cols = detail::window(ow, S.step(), S.padding, S.kernel, W);
        const T g = output_gradient[(plane * OH + oh) * OW + ow] * scale;
        for (std::size_t ih = rows.first; ih < rows.last; ++ih)
          for (std::size_t iw = cols.first; iw < cols.last; ++iw) dx[ih * W + iw] += g;
      }
    }
  }
}

// output [N, C] = the mean of each plane of input [N, C, H, W].
template <std::size_t N, std::size_t C, std::size_t H, std::size_t W, class Arch = xsimd::default_arch, class T>
inline void global_avg_pool2d(const T* input, T* output) noexcept {
  static_assert(N > 0 && C > 0 && H > 0 && W > 0, "tl::simd::global_avg_pool2d<N, C, H, W>: every size must be positive");
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t plane = H * W, L = batch::size;
  for (std::size_t p = 0; p < N * C; ++p) {
    const T* x = input + p * plane;
    batch acc(T(0));
    T tail = 0;
    std::size_t i = 0;
    for (; i + L <= plane; i += L) acc += batch::load_unaligned(x + i);
    for (; i < plane; ++i) tail += x[i];
    output[p] = (xsimd::hadd(acc) + tail) / T(plane);
  }
}

// input_gradient [N, C, H, W] = dL/dinput: each plane filled with its output's gradient / (H W).
template <std::size_t N, std::size_t C, std::size_t H, std::size_t W, class Arch = xsimd::default_arch, class T>
inline void global_avg_pool2d_backward(const T* output_gradient, T* input_gradient) noexcept {
  static_assert(N > 0 && C > 0 && H > 0 && W > 0,
                "tl::simd::global_avg_pool2d_backward<N, C, H, W>: every size must be positive");
  using batch = xsimd::batch<T, Arch>;
  constexpr std::size_t plane = H * W, L = batch::size;
  for (std::size_t p = 0; p < N * C; ++p) {
    T* dx = input_gradient + p * plane;
    const T g = output_gradient[p] / T(plane);
    std::size_t i = 0;
    for (; i + L <= plane; i += L) batch(g).store_unaligned(dx + i);
    for (; i < plane; ++i) dx[i] = g;
  }
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
