#pragma once
// Vector-Jacobian products of max and min. A tie splits the adjoint evenly
// between the operands (heaviside(0) = 1/2), as PyTorch's maximum does.

#include <tapeless/diff/rules/rule.hpp>

namespace tapeless::detail {

// d max(a, b) = heaviside(a - b) da + heaviside(b - a) db
template <>
struct vjp_rule<max_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<max_op, A, B>, G g) {
    if constexpr (I == 0)
      return detail::make_mul(detail::make_function<heaviside_op>(detail::make_sub(A{}, B{})), g);
    else
      return detail::make_mul(detail::make_function<heaviside_op>(detail::make_sub(B{}, A{})), g);
  }
};

// d min(a, b) = heaviside(b - a) da + heaviside(a - b) db
template <>
struct vjp_rule<min_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<min_op, A, B>, G g) {
    if constexpr (I == 0)
      return detail::make_mul(detail::make_function<heaviside_op>(detail::make_sub(B{}, A{})), g);
    else
      return detail::make_mul(detail::make_function<heaviside_op>(detail::make_sub(A{}, B{})), g);
  }
};

}  // namespace tapeless::detail
