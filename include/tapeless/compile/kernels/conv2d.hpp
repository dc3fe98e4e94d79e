#pragma once
// conv2d and its two gradients (expr/conv2d.hpp), one family each, running
// the kernels of simd/conv2d.hpp (im2col into the GEMM tiles or direct loops,
// chosen per shape there). They read their operands where they lie and write
// whole buffers; the kernels need working memory (the unrolled input, a
// padded copy), which the plan places in the arena as each node's scratch.
//
// The kernels stay functions of their own (noinline), as large GEMMs do: a
// convolution is far longer than a call, and inlined into a step its tiles'
// registers would compete with everything around it.
//
// The forward convolution takes its consumer's elementwise loop as its
// epilogue (the bias, batch norm with running statistics, the activation):
// image by image, the convolution writes one image's output into its scratch
// and the loop runs over it there, while it is in cache, writing the
// consumer's result; the convolution's own output is never stored. Over
// planes, the loop runs on whole planes when its operands
// allow (plane_values, kernels/loop.hpp).

#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/simd/conv2d.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// The simd layer's description of a convolution: input X [N, C, H, W], weight W [O, C / groups, KH, KW].
template <conv_options O, class X, class W>
inline constexpr simd::conv2d_shape conv2d_geometry{
    .batch = X::dims[0],
    .in_channels = X::dims[1],
    .height = X::dims[2],
    .width = X::dims[3],
    .out_channels = W::dims[0],
    .kernel_height = W::dims[2],
    .kernel_width = W::dims[3],
    .stride = O.stride,
    .padding = O.padding,
    .dilation = O.dilation,
    .groups = O.groups};

template <class N, std::size_t I>
using operand_type = std::tuple_element_t<I, typename operands_of<N>::type::template apply<std::tuple>>;

template <class Sched, class N, std::size_t I, class Ctx>
const auto* operand_pointer(const Ctx& c) noexcept {
  using A = operand_type<N, I>;
  static_assert(!family_of<A>::in_register,
                "tapeless::compile: an operand of a convolution or pooling simplified to a constant");
  return Sched::template pointer<A>(c);
}

// Every convolution family: a kernel of its own with scratch, writing a whole buffer.
struct conv2d_family_base : kernel_family_defaults {
  // Its kernel writes every element of its result: an output that is its only user takes it there.
  static constexpr bool writes_output_in_place = true;
};

// Y = conv(X, W).
struct conv2d_family : conv2d_family_base {
  // Its consumer's loop may run image by image on the output while it is in
  // cache (see the top of this file).
  static constexpr bool takes_epilogue = true;

  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, shape_of<operand_type<N, 0>>, shape_of<operand_type<N, 1>>>;
  // One image of it: the epilogue's unit of work.
  template <class N>
  static constexpr simd::conv2d_shape image_geometry = [] {
    simd::conv2d_shape s = geometry<N>;
    s.batch = 1;
    return s;
  }();

  // The kernel's working memory, then (for the epilogue) one image's output, 64-byte aligned.
  template <class N, class T, class Arch>
  static constexpr std::size_t kernel_scratch_bytes =
      (simd::conv2d_scratch_bytes<geometry<N>, T, Arch>() + 63) / 64 * 64;
  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    using Y = shape_of<N>;
    return kernel_scratch_bytes<N, T, Arch> + sizeof(T) * (Y::size / Y::dims[0]);
  }

  template <class Sched, int I, class N, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    simd::conv2d<geometry<N>, typename Sched::arch>(operand_pointer<Sched, N, 0>(c), operand_pointer<Sched, N, 1>(c),
                                                    Sched::template destination<N>(c),
                                                    Sched::template scratch<N>(c));
  }

  // The convolution Conv with the loop of root Root (node index I) as its epilogue.
  template <class Sched, int I, class Root, class Conv, class Ctx>
  [[gnu::noinline]] static void run_with_epilogue(const Ctx& c) noexcept {
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    using S = shape_of<Root>;
    using X = shape_of<operand_type<Conv, 0>>;
    static_assert(S::rank == 4 && S::size == shape_of<Conv>::size,
                  "tapeless::compile: a convolution's epilogue runs over the convolution's own shape");
    constexpr std::size_t image = S::size / S::dims[0], image_input = X::size / X::dims[0];
    const T* x = operand_pointer<Sched, Conv, 0>(c);
    const T* w = operand_pointer<Sched, Conv, 1>(c);
    T* scratch = Sched::template scratch<Conv>(c);
    T* product = scratch + kernel_scratch_bytes<Conv, T, Arch> / sizeof(T);
    T* dst = Sched::template destination<Root>(c);
    using planes = plane_values<Sched, Ctx, I, S>;
    for (std::size_t n = 0; n < S::dims[0]; ++n) {
      simd::conv2d<image_geometry<Conv>, Arch>(x + n * image_input, w, product, scratch);
      if constexpr (planes::template mergeable<Root>())
        loop_over_image<planes, Root, T, Arch>(c, n * S::dims[1], S::dims[1], product, dst + n * image);
      else
        loop_over_image<fused_values<Sched, Ctx, I, S, false>, Root, T, Arch>(c, n * S::dims[1] * S::dims[2],
                                                                              S::dims[1] * S::dims[2], product,
                                                                              dst + n * image);
    }
  }

 private:
  // Rows [row0, row0 + rows) of loop F, the product read from `product` (the image's output).
  template <class F, class Root, class T, class Arch, class Ctx>
  [[gnu::always_inline]] static void loop_over_image(const Ctx& c, std::size_t row0, std::size_t rows,
                                                     const T* product, T* out) noexcept {
    constexpr std::size_t columns = F::columns, w = simd::lanes<T, Arch>;
    for (std::size_t r = 0; r < rows; ++r)
      simd::fused_loop<w>(columns, [&](std::size_t i, auto step, auto) {
        using V = std::conditional_t<decltype(step)::value == 1, T, batch_of<T, Arch>>;
        const std::size_t at = r * columns + i;
        simd::store(out + at, F::template value<Root, V>(c, row0 + r, i, simd::load<V>(product + at)));
      });
  }
};

// dX = conv2d_input_gradient(dY, W).
struct conv2d_input_gradient_family : conv2d_family_base {
  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, typename N::operation::input_shape, shape_of<operand_type<N, 1>>>;

  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return simd::conv2d_scratch_bytes<geometry<N>, T, Arch>();
  }

  template <class Sched, int I, class N, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    simd::conv2d_input_gradient<geometry<N>, typename Sched::arch>(
        operand_pointer<Sched, N, 0>(c), operand_pointer<Sched, N, 1>(c), Sched::template destination<N>(c),
        Sched::template scratch<N>(c));
  }
};

// dW = conv2d_weight_gradient(X, dY).
struct conv2d_weight_gradient_family : conv2d_family_base {
  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, shape_of<operand_type<N, 0>>, typename N::operation::weight_shape>;

  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return simd::conv2d_scratch_bytes<geometry<N>, T, Arch>();
  }

  template <class Sched, int I, class N, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    simd::conv2d_weight_gradient<geometry<N>, typename Sched::arch>(
        operand_pointer<Sched, N, 0>(c), operand_pointer<Sched, N, 1>(c), Sched::template destination<N>(c),
        Sched::template scratch<N>(c));
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <conv_options O>
struct op_family<conv2d_op<O>> {
  using type = conv2d_family;
};
template <conv_options O, class In>
struct op_family<conv2d_input_gradient_op<O, In>> {
  using type = conv2d_input_gradient_family;
};
template <conv_options O, class Weight>
struct op_family<conv2d_weight_gradient_op<O, Weight>> {
  using type = conv2d_weight_gradient_family;
};

}  // namespace tapeless::detail
