#pragma once
// Vector-Jacobian products of batch norm's statistics (training mode, the
// only one a program differentiates), m = M elements per channel:
//   mean = sum(x) / m               x gets g / m
//   var  = sum((x - mean)^2) / m    x gets 2 g (x - mean) / m; mean gets
//          -2 g sum(x - mean) / m, which is zero at the batch mean, the only
//          mean it is ever given (so nothing is sent).
// The running estimates and the batch count are buffers: no gradient.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/batch_statistics.hpp>

namespace tapeless::detail {

template <class X>
inline constexpr long long elements_per_channel = static_cast<long long>(X::size / X::dims[1]);

template <structural_double Momentum>
struct vjp_rule<batch_mean_op<Momentum>> {
  template <std::size_t I, class X, class RunningMean, class Count, class G>
  static constexpr auto partial(node<batch_mean_op<Momentum>, X, RunningMean, Count>, G g) {
    if constexpr (I != 0 || is_zero<G>)
      return zero_adjoint{};
    else
      return detail::make_mul(g, exact<rational{1, elements_per_channel<shape_of<X>>}>{});
  }
};

template <structural_double Momentum>
struct vjp_rule<batch_variance_op<Momentum>> {
  template <std::size_t I, class X, class Mean, class RunningVar, class G>
  static constexpr auto partial(node<batch_variance_op<Momentum>, X, Mean, RunningVar>, G g) {
    if constexpr (I != 0 || is_zero<G>)
      return zero_adjoint{};
    else
      return detail::make_mul(detail::make_mul(g, exact<rational{2, elements_per_channel<shape_of<X>>}>{}), detail::make_sub(X{}, Mean{}));
  }
};

}  // namespace tapeless::detail
