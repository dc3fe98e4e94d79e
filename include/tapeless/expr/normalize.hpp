#pragma once
// Normalization over the last axis, the heart of layer norm (nn/layer_norm.hpp):
//
//   tl::normalize_last_axis<1e-5>(X)   // (x - mean) / sqrt(var + eps), mean and biased var of each row
//
// One node, and one backward node: each way is one pass of a row kernel
// (compile/kernels/normalize.hpp). Built from reductions and elementwise
// operations instead, it was eight kernels forward and seven backward, a
// transformer's step spending over a third of its kernels on its norms.
//
//   backward: dL/dx = rstd * (g - mean(g) - y * mean(g * y)) per row,
//             y the normalized row, rstd = 1 / sqrt(var + eps), g = dL/dy
//
// The backward node reads x and recomputes each row's mean and rstd (a row is
// short and in cache) rather than keeping them in buffers of their own.

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

template <structural_double Eps>
struct normalize_last_axis_op {
  static constexpr std::string_view name = "normalize_last_axis";
  static constexpr double eps = Eps;
  template <class X>
  struct result_shape {
    using type = X;
  };
};

// dL/dx [X] from x and dL/dy, y = normalize_last_axis<Eps>(x).
template <structural_double Eps>
struct normalize_last_axis_backward_op {
  static constexpr std::string_view name = "normalize_last_axis_backward";
  static constexpr double eps = Eps;
  template <class X, class G>
  struct result_shape {
    using type = X;
  };
};

namespace detail {

template <class S>
struct normalize_needs_rank_1_or_more {
  static_assert(always_false<S>,
                "tapeless::normalize_last_axis: the input needs at least one axis (normalized over the last); "
                "its shape is above");
  static constexpr bool ok = false;
};

}  // namespace detail

// Each row along the last axis at mean 0 and (biased) variance 1: torch's
// layer_norm over the last axis without weight and bias.
template <structural_double Eps, expression X>
constexpr auto normalize_last_axis(const X& x) {
  if constexpr (shape_of<X>::rank == 0)
    return detail::normalize_needs_rank_1_or_more<shape_of<X>>::ok;
  else
    return node<normalize_last_axis_op<Eps>, X>{x};
}

}  // namespace tapeless
