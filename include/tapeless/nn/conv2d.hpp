#pragma once
// tl::nn::conv2d<"conv1", 32, 3, tl::nn::conv_options{.stride = 1, .padding = 1}>(x):
// a 2-D convolution layer with PyTorch's names and layout: "conv1.weight"
// [out, in / groups, k, k] and "conv1.bias" [out], as torch.nn.Conv2d(in,
// out, k, stride, padding, dilation, groups, bias). x is [N, C, H, W]; the
// element type is x's (float unless x reads doubles).
//
//   constexpr auto c1 = tl::relu(tl::nn::conv2d<"conv1", 32, 3, tl::nn::conv_options{.padding = 1}>(I));
//   constexpr auto dw = tl::nn::conv2d<"dw", 32, 3, tl::nn::conv_options{.padding = 1, .groups = 32}>(c1);  // depthwise

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::nn {

// torch.nn.Conv2d's options: the same stride, zero padding and dilation
// along both axes, channel groups, and whether there is a bias.
struct conv_options {
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;
  bool bias = true;
};

namespace detail {
template <class S, std::size_t Groups>
struct conv2d_layer_needs_nchw_input_and_groups_dividing_channels {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::conv2d<name, out_channels, kernel, options>: the input must be [N, C, H, W] "
                "(rank 4) with options.groups dividing C and out_channels; the input's shape and the groups "
                "are above");
  static constexpr bool ok = false;
};
}  // namespace detail

template <fixed_string Name, std::size_t Out, std::size_t Kernel, conv_options Options = conv_options{}, expression X>
constexpr auto conv2d(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank != 4 || Options.groups == 0 || S::dims[1] % Options.groups != 0 ||
                Out % Options.groups != 0) {
    return detail::conv2d_layer_needs_nchw_input_and_groups_dividing_channels<S, Options.groups>::ok;
  } else {
    using T = floating_element_t<X>;
    constexpr tapeless::conv_options op{
        .stride = Options.stride, .padding = Options.padding, .dilation = Options.dilation, .groups = Options.groups};
    constexpr auto weight = param<Name + fixed_string(".weight"), T, Out, S::dims[1] / Options.groups, Kernel, Kernel>;
    if constexpr (!Options.bias)
      return tapeless::conv2d<op>(x, weight);
    else  // the bias [out] read as [out, 1, 1]: one value per output plane
      return tapeless::conv2d<op>(x, weight) +
             tapeless::detail::reshape_to<shape<Out, 1, 1>>(param<Name + fixed_string(".bias"), T, Out>);
  }
}

}  // namespace tapeless::nn
