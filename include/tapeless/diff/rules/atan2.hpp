#pragma once
// Vector-Jacobian products of atan2(y, x) and hypot(a, b).

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/atan2.hpp>
#include <tapeless/expr/hypot.hpp>

namespace tapeless::detail {

// d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
template <>
struct vjp_rule<atan2_op> {
  template <std::size_t I, class Y, class X, class G>
  static constexpr auto partial(node<atan2_op, Y, X>, G g) {
    constexpr exact<rational{2, 1}> two{};
    const auto radius_squared = detail::make_add(detail::make_pow(X{}, two), detail::make_pow(Y{}, two));
    if constexpr (I == 0)
      return detail::make_mul(detail::make_div(X{}, radius_squared), g);
    else
      return detail::make_neg(detail::make_mul(detail::make_div(Y{}, radius_squared), g));
  }
};

// d hypot(a, b) = (a da + b db) / hypot(a, b)   (reads the node)
template <>
struct vjp_rule<hypot_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<hypot_op, A, B> self, G g) {
    if constexpr (I == 0)
      return detail::make_mul(detail::make_div(A{}, self), g);
    else
      return detail::make_mul(detail::make_div(B{}, self), g);
  }
};

}  // namespace tapeless::detail
