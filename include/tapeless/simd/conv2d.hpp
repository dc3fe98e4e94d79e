#pragma once
// simd::conv2d: 2-D convolution (PyTorch's Conv2d, NCHW) and its gradients
// for a static shape (conv2d_shape.hpp):
//
//   constexpr simd::conv2d_shape s{.batch = 64, .in_channels = 1, .height = 28, .width = 28,
//                                  .out_channels = 32, .kernel_height = 3, .kernel_width = 3, .padding = 1};
//   alignas(64) std::byte scratch[simd::conv2d_scratch_bytes<s, float>()];
//   // y = relu(conv(x, w) + b)
//   simd::conv2d<s>(x, w, y, scratch, [&](auto v, auto at) {
//     return xsimd::max(v + decltype(v)(b[at.row % s.out_channels]), decltype(v)(0)); });
//   simd::conv2d_input_gradient<s>(dy, w, dx, scratch);   // dL/dx from dL/dy
//   simd::conv2d_weight_gradient<s>(x, dy, dw, scratch);  // dL/dw
//   simd::conv2d_bias_gradient<s>(dy, db);                // dL/db
//
// Tensors are dense, row-major, of the sizes conv2d_shape gives; pointers
// need no more than T's alignment; outputs must not overlap inputs. Every
// result is overwritten (not accumulated). The forward epilogue (see
// epilogue.hpp) is called once per output element, with the output seen as
// the matrix [batch * out_channels, out_height * out_width]: at.row is
// n * out_channels + o, at.col the position oh * out_width + ow.
//
// The kernel is chosen at compile time per shape (conv2d_plan): im2col into
// caller-provided scratch followed by the GEMM tiles, or the direct loops.
// Scratch is at least conv2d_scratch_bytes<S, T, Arch>() bytes, aligned for
// T (64 bytes is best); it holds nothing between
// calls, so one region serves every convolution of a program. Nothing
// allocates, throws or calls through a pointer.

#include <tapeless/simd/conv2d_shape.hpp>
#include <tapeless/simd/detail/conv2d_depthwise.hpp>
#include <tapeless/simd/detail/conv2d_direct.hpp>
#include <tapeless/simd/detail/conv2d_gemm.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/epilogue.hpp>

#include <cstddef>
#include <type_traits>

namespace tapeless::simd {

// How a convolution is computed; `automatic` takes conv2d_plan's choice,
// the others force one (for tests and benchmarks). `depthwise_rows` applies
// to depthwise convolutions of stride 1 with padding at most
// (kernel size - 1) * dilation (detail/conv2d_depthwise.hpp).
enum class conv2d_algorithm { automatic, direct, im2col_gemm, depthwise_rows };

template <conv2d_shape S, class T, class Arch = xsimd::default_arch,
          conv2d_algorithm Algorithm = conv2d_algorithm::automatic>
struct conv2d_plan {
  // im2col + GEMM when each group has enough output channels to fill the rows
  // of a register tile: then every column of the unrolled input is loaded once
  // per tile of rows and feeds that many FMAs. With few output channels per
  // group (depthwise: one), a tile is one row deep, the GEMM is load-bound and
  // the copy of the input KH * KW times over costs more than it saves; the
  // direct loops read the input where it lies. (Measured in
  // bench/kernels/conv.cpp; see bench/results/conv_kernels.md.)
  static constexpr bool im2col = Algorithm == conv2d_algorithm::automatic
                                     ? S.group_out_channels() >= 8
                                     : Algorithm == conv2d_algorithm::im2col_gemm;

  // Depthwise with stride 1: the row kernels (detail/conv2d_depthwise.hpp),
  // which load each input row once and make its taps' shifted copies in
  // registers, where the general direct loops spend more on each plane's
  // copies than on its arithmetic (2-4x faster, bench/results/conv_kernels.md).
  // Only where the copies are made in registers (AVX2, AVX-512 floats): with
  // SSE2 they go through memory, and the direct loops ran 2.2-7.4x faster.
  static constexpr bool depthwise_rows =
      Algorithm == conv2d_algorithm::automatic
          ? !im2col && detail::depthwise_rows_apply<S> && detail::shifts_in_registers<xsimd::batch<T, Arch>>
          : Algorithm == conv2d_algorithm::depthwise_rows;
  static_assert(!depthwise_rows || detail::depthwise_rows_apply<S>,
                "tl::simd::conv2d: conv2d_algorithm::depthwise_rows needs groups == in_channels == out_channels, "
                "stride 1 and padding <= (kernel size - 1) * dilation; use conv2d_algorithm::direct for this shape");

  static constexpr std::size_t padded_plane = detail::padded_plane<S, T, Arch>;

  // Scratch of each pass, in elements of T. im2col: the unrolled input
  // (forward); the unrolled input gradient and a padded copy of one group's
  // output gradient (input gradient); the unrolled input, the output gradient
  // transposed and the transposed weight gradient (weight gradient). Direct:
  // one phase-split copy of a group's input planes and one output plane
  // (detail/conv2d_direct.hpp), in every pass; the depthwise row kernels: the
  // weight gradient's sums (detail/conv2d_depthwise.hpp).
  static constexpr std::size_t direct_scratch = depthwise_rows ? detail::depthwise_rows_scratch<S, T, Arch>
                                                               : detail::direct_layout<S, T, Arch>::scratch;
  static constexpr std::size_t forward_scratch = im2col ? S.group_depth() * padded_plane : direct_scratch;
  static constexpr std::size_t input_gradient_scratch =
      im2col ? (S.group_depth() + S.group_out_channels()) * padded_plane : direct_scratch;
  static constexpr std::size_t weight_gradient_scratch =
      im2col ? detail::weight_gradient_im2col_scratch<S, T, Arch> : direct_scratch;
  static constexpr std::size_t scratch_bytes =
      sizeof(T) * detail::max_of(forward_scratch, detail::max_of(input_gradient_scratch, weight_gradient_scratch));
};

// Bytes of scratch that any of conv2d, conv2d_input_gradient and
// conv2d_weight_gradient needs for shape S, element type T, instruction set Arch.
template <conv2d_shape S, class T, class Arch = xsimd::default_arch,
          conv2d_algorithm Algorithm = conv2d_algorithm::automatic>
constexpr std::size_t conv2d_scratch_bytes() {
  return conv2d_plan<S, T, Arch, Algorithm>::scratch_bytes;
}

namespace detail {
template <conv2d_shape S, class T>
constexpr bool check_conv2d() {
  static_assert(S.valid(),
                "tl::simd::conv2d: invalid conv2d_shape: every size must be positive, groups must divide "
                "in_channels and out_channels, and the dilated kernel must fit in the padded input");
  static_assert(std::is_floating_point_v<T>, "tl::simd::conv2d: the element type must be float or double");
  return S.valid() && std::is_floating_point_v<T>;
}
}  // namespace detail

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// output [N, O, OH, OW] = epilogue(conv(input [N, C, H, W], weight [O, C / groups, KH, KW])).
template <conv2d_shape S, class Arch = xsimd::default_arch, conv2d_algorithm Algorithm = conv2d_algorithm::automatic,
          class T, class Epilogue = epilogue::store>
TAPELESS_FLATTEN inline void conv2d(const T* input, const T* weight, T* output, void* scratch,
                                    Epilogue epilogue = {}) noexcept {
  if constexpr (!detail::check_conv2d<S, T>())
    return;  // stop at the one message above
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::im2col)
    detail::conv2d_im2col<S, Arch>(input, weight, output, static_cast<T*>(scratch), epilogue);
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::depthwise_rows)
    detail::conv2d_depthwise_rows<S, Arch>(input, weight, output, static_cast<T*>(scratch), epilogue);
  else
    detail::conv2d_direct<S, Arch>(input, weight, output, static_cast<T*>(scratch), epilogue);
}

// input_gradient [N, C, H, W] = dL/dinput, from output_gradient [N, O, OH, OW] = dL/doutput.
template <conv2d_shape S, class Arch = xsimd::default_arch, conv2d_algorithm Algorithm = conv2d_algorithm::automatic,
          class T>
TAPELESS_FLATTEN inline void conv2d_input_gradient(const T* output_gradient, const T* weight, T* input_gradient,
                                                   void* scratch) noexcept {
  if constexpr (!detail::check_conv2d<S, T>())
    return;
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::im2col)
    detail::conv2d_input_gradient_im2col<S, Arch>(output_gradient, weight, input_gradient, static_cast<T*>(scratch));
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::depthwise_rows)
    detail::conv2d_input_gradient_depthwise_rows<S, Arch>(output_gradient, weight, input_gradient, static_cast<T*>(scratch));
  else
    detail::conv2d_input_gradient_direct<S, Arch>(output_gradient, weight, input_gradient, static_cast<T*>(scratch));
}

// weight_gradient [O, C / groups, KH, KW] = dL/dweight, summed over the batch.
template <conv2d_shape S, class Arch = xsimd::default_arch, conv2d_algorithm Algorithm = conv2d_algorithm::automatic,
          class T>
TAPELESS_FLATTEN inline void conv2d_weight_gradient(const T* input, const T* output_gradient, T* weight_gradient,
                                                    void* scratch) noexcept {
  if constexpr (!detail::check_conv2d<S, T>())
    return;
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::im2col)
    detail::conv2d_weight_gradient_im2col<S, Arch>(input, output_gradient, weight_gradient, static_cast<T*>(scratch));
  else if constexpr (conv2d_plan<S, T, Arch, Algorithm>::depthwise_rows)
    detail::conv2d_weight_gradient_depthwise_rows<S, Arch>(input, output_gradient, weight_gradient, static_cast<T*>(scratch));
  else
    detail::conv2d_weight_gradient_direct<S, Arch>(input, output_gradient, weight_gradient, static_cast<T*>(scratch));
}

// bias_gradient [O] = dL/dbias: output_gradient summed over images and positions.
template <conv2d_shape S, class Arch = xsimd::default_arch, class T>
inline void conv2d_bias_gradient(const T* output_gradient, T* bias_gradient) noexcept {
  if constexpr (detail::check_conv2d<S, T>()) {
    using batch = xsimd::batch<T, Arch>;
    constexpr std::size_t L = batch::size, plane = S.output_plane();
    for (std::size_t o = 0; o < S.out_channels; ++o) {
      batch acc(T(0));
      T tail = 0;
      for (std::size_t n = 0; n < S.batch; ++n) {
        const T* dy = output_gradient + (n * S.out_channels + o) * plane;
        std::size_t j = 0;
        for (; j + L <= plane; j += L) acc += batch::load_unaligned(dy + j);
        for (; j < plane; ++j) tail += dy[j];
      }
      bias_gradient[o] = xsimd::hadd(acc) + tail;
    }
  }
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::simd
