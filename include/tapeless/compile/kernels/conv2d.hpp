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

#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/simd/conv2d.hpp>

namespace tapeless::detail {

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
  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, shape_of<operand_type<N, 0>>, shape_of<operand_type<N, 1>>>;

  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return simd::conv2d_scratch_bytes<geometry<N>, T, Arch>();
  }

  template <class Sched, int I, class N, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    simd::conv2d<geometry<N>, typename Sched::arch>(operand_pointer<Sched, N, 0>(c), operand_pointer<Sched, N, 1>(c),
                                                    Sched::template destination<N>(c),
                                                    Sched::template scratch<N>(c));
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
