#pragma once
// 2-D convolution, PyTorch's Conv2d semantics (NCHW, zero padding, no bias:
// tl::nn::conv2d adds it), and the two nodes its derivative is made of.
//
//   tl::conv2d<tl::conv_options{.stride = 2, .padding = 1}>(X, W)
//       // X [N, C, H, W], W [O, C / groups, KH, KW] -> [N, O, OH, OW],
//       // OH = (H + 2 padding - dilation (KH - 1) - 1) / stride + 1 (OW alike)
//
// The gradients are nodes of their own, each run by its kernel
// (compile/kernels/conv2d.hpp): conv2d_input_gradient_op (dL/dX from dL/dY
// and W) and conv2d_weight_gradient_op (dL/dW from X and dL/dY).

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// Stride, zero padding and dilation along both axes, and channel groups
// (groups == in_channels: depthwise), as torch.nn.Conv2d's arguments.
struct conv_options {
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
};

namespace detail {

// The output extent of a convolution along one axis (0 when it does not fit).
constexpr std::size_t conv_out_extent(std::size_t in, std::size_t kernel, conv_options o) {
  const std::size_t span = o.dilation * (kernel - 1) + 1;
  return in + 2 * o.padding < span ? 0 : (in + 2 * o.padding - span) / o.stride + 1;
}

template <class X, class W, conv_options O>
struct conv2d_output_shape {
  using type = shape<X::dims[0], W::dims[0], conv_out_extent(X::dims[2], W::dims[2], O),
                     conv_out_extent(X::dims[3], W::dims[3], O)>;
};

}  // namespace detail

// Y = conv(X, W).
template <conv_options O>
struct conv2d_op {
  static constexpr std::string_view name = "conv2d";
  static constexpr conv_options options = O;
  template <class X, class W>
  struct result_shape {
    using type = typename detail::conv2d_output_shape<X, W, O>::type;
  };
};

// dL/dX [In] from dL/dY and W.
template <conv_options O, class In>
struct conv2d_input_gradient_op {
  static constexpr std::string_view name = "conv2d_input_gradient";
  static constexpr conv_options options = O;
  using input_shape = In;
  template <class G, class W>
  struct result_shape {
    using type = In;
  };
};

// dL/dW [Weight] from X and dL/dY, summed over the batch.
template <conv_options O, class Weight>
struct conv2d_weight_gradient_op {
  static constexpr std::string_view name = "conv2d_weight_gradient";
  static constexpr conv_options options = O;
  using weight_shape = Weight;
  template <class X, class G>
  struct result_shape {
    using type = Weight;
  };
};

namespace detail {

// Fails with the shapes and options in the instantiation context:
// "conv2d_shapes_do_not_fit<shape<8, 3, 5, 7>, shape<4, 2, 3, 3>, 1, 0, 1, 1>".
template <class X, class W, std::size_t Stride, std::size_t Padding, std::size_t Dilation, std::size_t Groups>
struct conv2d_shapes_do_not_fit {
  static_assert(always_false<X, W>,
                "tapeless::conv2d: expected input [N, C, H, W] and weight [O, C / groups, KH, KW] with groups "
                "dividing C and O, stride and dilation at least 1, and the dilated kernel fitting in the padded input; see input, weight, stride, padding, "
                "dilation and groups in conv2d_shapes_do_not_fit<...> above");
  static constexpr bool ok = false;
};

template <class X, class W, conv_options O>
constexpr bool conv2d_shapes_fit() {
  if constexpr (X::rank != 4 || W::rank != 4) {
    return false;
  } else {
    const std::size_t C = X::dims[1], Out = W::dims[0];
    if (O.groups == 0 || O.stride == 0 || O.dilation == 0) return false;
    if (C % O.groups != 0 || Out % O.groups != 0 || W::dims[1] != C / O.groups) return false;
    if (X::dims[0] == 0 || Out == 0 || W::dims[2] == 0 || W::dims[3] == 0) return false;
    const std::size_t span_h = O.dilation * (W::dims[2] - 1) + 1, span_w = O.dilation * (W::dims[3] - 1) + 1;
    return span_h <= X::dims[2] + 2 * O.padding && span_w <= X::dims[3] + 2 * O.padding;
  }
}

template <class X, class W, conv_options O>
constexpr bool check_conv2d() {
  if constexpr (conv2d_shapes_fit<X, W, O>())
    return true;
  else
    return conv2d_shapes_do_not_fit<X, W, O.stride, O.padding, O.dilation, O.groups>::ok;
}

}  // namespace detail

// Y [N, O, OH, OW] = conv(X [N, C, H, W], W [O, C / groups, KH, KW]), as torch.nn.functional.conv2d.
template <conv_options O = conv_options{}, expression X, expression W>
constexpr auto conv2d(const X& x, const W& w) {
  if constexpr (detail::check_conv2d<shape_of<X>, shape_of<W>, O>())
    return node<conv2d_op<O>, X, W>{x, w};
}

}  // namespace tapeless
