#pragma once
// Batch normalization's statistics: the mean and the (biased) variance of
// each channel over the batch and every axis but the channel axis (1), as
// torch.nn.BatchNorm1d/2d compute them in train(). The layers are in
// nn/batch_norm.hpp; these two nodes are what they need beyond elementwise ops.
//
//   mean = node<batch_mean_op<M>, X, running_mean, num_batches_tracked>       // [1, C, 1, ...]
//   var  = node<batch_variance_op<M>, X, mean, running_var>                   // [1, C, 1, ...]
//
// While a program steps they are the batch's statistics, and their kernels
// (compile/kernels/batch_statistics.hpp) update the running estimates in the
// parameter store as torch does: running = (1 - M) running + M batch, with
// the unbiased variance (n / (n - 1)), and num_batches_tracked + 1. In a
// forward-only program they are the running estimates, read from the store.
// The running estimates are buffers (tl::buffer): stored, saved and loaded
// with the parameters, never differentiated nor touched by an optimizer.

#include <cstddef>
#include <string_view>
#include <utility>

#include <tapeless/core/shape.hpp>
#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

namespace detail {

// X's shape with every dimension but the channel axis (1) set to 1.
template <class X, class Seq = std::make_index_sequence<X::rank>>
struct channel_shape;
template <class X, std::size_t... I>
struct channel_shape<X, std::index_sequence<I...>> {
  using type = shape<(I == 1 ? X::dims[1] : 1)...>;
};

}  // namespace detail

// The mean of each channel of X over the batch (training) or the running mean (evaluation).
template <structural_double Momentum>
struct batch_mean_op {
  static constexpr std::string_view name = "batch_mean";
  static constexpr double momentum = Momentum;
  template <class X, class RunningMean, class Count>
  struct result_shape {
    using type = typename detail::channel_shape<X>::type;
  };
};

// The biased variance of each channel of X around Mean (training) or the running variance (evaluation).
template <structural_double Momentum>
struct batch_variance_op {
  static constexpr std::string_view name = "batch_variance";
  static constexpr double momentum = Momentum;
  template <class X, class Mean, class RunningVar>
  struct result_shape {
    using type = typename detail::channel_shape<X>::type;
  };
};

}  // namespace tapeless
