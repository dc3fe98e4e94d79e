#pragma once
// Vector-Jacobian products of + - * / and unary minus. `partial<I>(n, g)` is
// what node n sends to its operand I when g is the adjoint of n.

#include <tapeless/diff/rules/rule.hpp>

namespace tapeless::detail {

// d(a + b) = da + db
template <>
struct vjp_rule<add_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<add_op, A, B>, G g) {
    return g;
  }
};

// d(a - b) = da - db
template <>
struct vjp_rule<sub_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<sub_op, A, B>, G g) {
    if constexpr (I == 0)
      return g;
    else
      return detail::make_neg(g);
  }
};

// d(a*b) = b*da + a*db
template <>
struct vjp_rule<mul_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<mul_op, A, B>, G g) {
    if constexpr (I == 0)
      return detail::make_mul(B{}, g);
    else
      return detail::make_mul(A{}, g);
  }
};

// d(a/b) = da/b - (a/b)*db/b   (reusing the quotient; every division is by b,
// so the evaluator turns them into products by one reciprocal)
template <>
struct vjp_rule<div_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<div_op, A, B> self, G g) {
    if constexpr (I == 0)
      return detail::make_div(g, B{});
    else
      return detail::make_neg(detail::make_mul(self, detail::make_div(g, B{})));
  }
};

// d(-a) = -da
template <>
struct vjp_rule<neg_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<neg_op, A>, G g) {
    return detail::make_neg(g);
  }
};

}  // namespace tapeless::detail
