#pragma once
// tl::nn::batch_norm2d<"bn1">(x) and batch_norm1d: batch normalization with
// PyTorch's names, as torch.nn.BatchNorm2d(C) / BatchNorm1d(C):
//
//   y = (x - mean) / sqrt(var + eps) * weight + bias, per channel (axis 1)
//
// x is [N, C, H, W] (2d), [N, C] or [N, C, L] (1d). "bn1.weight" and
// "bn1.bias" [C] are trained (starting at 1 and 0); "bn1.running_mean",
// "bn1.running_var" [C] and "bn1.num_batches_tracked" (int64, a scalar) are
// buffers in the parameter store: saved and loaded with the parameters,
// untouched by optimizers.
//
// While a program steps, mean and var are the batch's (the biased variance)
// and the running estimates are updated: running = (1 - momentum) running +
// momentum batch, with the unbiased variance, and num_batches_tracked + 1, as
// torch's train(). A forward-only program (program(...), tl::compile of an
// output) normalizes with the running estimates, as torch's eval().

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/batch_statistics.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::nn {

// torch's defaults.
struct batch_norm_options {
  structural_double eps = 1e-5;
  structural_double momentum = 0.1;
};

namespace detail {

template <class S, std::size_t Rank>
struct batch_norm_input_shape {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::batch_norm2d needs an input [N, C, H, W], batch_norm1d [N, C] or [N, C, L], with "
                "more than one value per channel (N * H * W > 1, as torch requires while training); the "
                "input's shape is above");
  static constexpr bool ok = false;
};

// [C] read as [C, 1, ...]: one value per channel, against x [N, C, ...].
template <class S, class P>
constexpr auto per_channel(const P& p) {
  constexpr std::size_t C = S::dims[1];
  if constexpr (S::rank == 2)
    return p;
  else if constexpr (S::rank == 3)
    return tapeless::detail::reshape_to<shape<C, 1>>(p);
  else
    return tapeless::detail::reshape_to<shape<C, 1, 1>>(p);
}

template <fixed_string Name, batch_norm_options Options, class X>
constexpr auto batch_norm(const X& x) {
  using S = shape_of<X>;
  using T = floating_element_t<X>;
  constexpr std::size_t C = S::dims[1];
  constexpr auto running_mean = buffer<Name + fixed_string(".running_mean"), T, C>;
  constexpr auto running_var = buffer<Name + fixed_string(".running_var"), T, C>;
  constexpr auto batches = buffer<Name + fixed_string(".num_batches_tracked"), std::int64_t>;
  constexpr auto weight = param<Name + fixed_string(".weight"), T, C>;
  constexpr auto bias = param<Name + fixed_string(".bias"), T, C>;
  const auto mean = node<batch_mean_op<Options.momentum>, X, std::remove_cvref_t<decltype(running_mean)>,
                         std::remove_cvref_t<decltype(batches)>>{x, running_mean, batches};
  const auto var = node<batch_variance_op<Options.momentum>, X, std::remove_cvref_t<decltype(mean)>,
                        std::remove_cvref_t<decltype(running_var)>>{x, mean, running_var};
  // The scale per channel first ([1, C, 1, 1]: one division per channel), then one fused pass over x.
  // eps as an exact constant: a run-time number inside the statistics, which
  // are read more than once, would turn the graph into a tree (expr/label.hpp).
  constexpr exact_constant<tapeless::detail::exact_decimal(Options.eps)> eps{};
  return (x - mean) * (per_channel<S>(weight) / sqrt(var + eps)) + per_channel<S>(bias);
}

}  // namespace detail

template <fixed_string Name, batch_norm_options Options = batch_norm_options{}, expression X>
constexpr auto batch_norm2d(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank != 4 || S::size / (S::rank == 4 ? S::dims[1] : 1) < 2)
    return detail::batch_norm_input_shape<S, 4>::ok;
  else
    return detail::batch_norm<Name, Options>(x);
}

template <fixed_string Name, batch_norm_options Options = batch_norm_options{}, expression X>
constexpr auto batch_norm1d(const X& x) {
  using S = shape_of<X>;
  if constexpr ((S::rank != 2 && S::rank != 3) || S::size / (S::rank >= 2 ? S::dims[1] : 1) < 2)
    return detail::batch_norm_input_shape<S, 2>::ok;
  else
    return detail::batch_norm<Name, Options>(x);
}

}  // namespace tapeless::nn
