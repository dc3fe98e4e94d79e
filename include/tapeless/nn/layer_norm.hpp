#pragma once
// tl::nn::layer_norm<"ln">(x): layer normalization over the last axis, as
// torch.nn.LayerNorm(D) (eps 1e-5): "ln.weight" and "ln.bias" [D], starting
// at 1 and 0.
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias, mean and (biased) var over the last axis
//
// The normalization is one node (expr/normalize.hpp) with a row kernel each
// way; the weight and bias are elementwise, fused with what follows.

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/normalize.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::nn {

struct layer_norm_options {
  structural_double eps = 1e-5;
};

namespace detail {
template <class S>
struct layer_norm_needs_rank_1_or_more {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::layer_norm: the input needs at least one axis (normalized over the last); its "
                "shape is above");
  static constexpr bool ok = false;
};
}  // namespace detail

template <fixed_string Name, layer_norm_options Options = layer_norm_options{}, expression X>
constexpr auto layer_norm(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank == 0) {
    return detail::layer_norm_needs_rank_1_or_more<S>::ok;
  } else {
    using T = floating_element_t<X>;
    constexpr std::size_t D = S::dims[S::rank - 1];
    return normalize_last_axis<Options.eps>(x) * param<Name + fixed_string(".weight"), T, D> +
           param<Name + fixed_string(".bias"), T, D>;
  }
}

}  // namespace tapeless::nn
