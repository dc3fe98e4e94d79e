#pragma once
// tl::nn::linear<"fc1", 256>(h): a fully connected layer, h W^T + b, with
// PyTorch's names and layout: "fc1.weight" [out, in] and "fc1.bias" [out],
// so weights move between the two as safetensors files. h is [batch, in];
// the element type is h's (float unless h reads doubles).
//
//   constexpr auto h = tl::relu(tl::nn::linear<"fc1", 256>(X));
//   constexpr auto z = tl::nn::linear<"fc2", 10, tl::nn::no_bias>(h);

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::nn {

struct with_bias {};
struct no_bias {};

namespace detail {
template <class S>
struct linear_needs_a_batch {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::linear: the input must be [batch, features] (rank 2; a single "
                "sample is a batch of 1); its shape is above");
  static constexpr bool ok = false;
};
}  // namespace detail

template <fixed_string Name, std::size_t Out, class Bias = with_bias, expression H>
constexpr auto linear(const H& h) {
  using S = shape_of<H>;
  if constexpr (S::rank != 2) {
    return detail::linear_needs_a_batch<S>::ok;
  } else {
    using T = floating_element_t<H>;
    constexpr auto weight = param<Name + fixed_string(".weight"), T, Out, S::dims[1]>;
    if constexpr (std::is_same_v<Bias, no_bias>)
      return matmul(h, transpose(weight));
    else
      return matmul(h, transpose(weight)) + param<Name + fixed_string(".bias"), T, Out>;
  }
}

}  // namespace tapeless::nn
