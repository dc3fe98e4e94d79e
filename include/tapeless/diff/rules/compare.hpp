#pragma once
// Comparisons: their derivative is 0 (they are piecewise constant; at a tie
// it is not defined, and 0 is what PyTorch uses), and a comparison of exact
// constants folds: 0 < 1 -> 1.

#include <type_traits>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/compare.hpp>

namespace tapeless::detail {

template <class Op>
struct comparison_rule {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<Op, A, B>, G) {
    return exact<rational{0, 1}>{};
  }
};
template <>
struct vjp_rule<not_equal_op> : comparison_rule<not_equal_op> {};
template <>
struct vjp_rule<less_op> : comparison_rule<less_op> {};
template <>
struct vjp_rule<greater_op> : comparison_rule<greater_op> {};
template <>
struct vjp_rule<less_equal_op> : comparison_rule<less_equal_op> {};
template <>
struct vjp_rule<greater_equal_op> : comparison_rule<greater_equal_op> {};

// c1 < c2 (and the others) -> 1 or 0, when both are exact
template <class Op>
struct comparison_rewrite {
  template <class A, class B>
  static constexpr auto make(A, B) {
    return node<Op, A, B>{};
  }
  template <rational C1, rational C2>
  static constexpr auto make(exact<C1>, exact<C2>) {
    constexpr bool holds = std::is_same_v<Op, less_op>          ? C1 < C2
                           : std::is_same_v<Op, greater_op>     ? C2 < C1
                           : std::is_same_v<Op, less_equal_op>  ? !(C2 < C1)
                           : std::is_same_v<Op, greater_equal_op> ? !(C1 < C2)
                                                                  : !(C1 == C2);
    return exact<rational{holds ? 1 : 0, 1}>{};
  }
};
template <>
struct rewrite<not_equal_op> : comparison_rewrite<not_equal_op> {};
template <>
struct rewrite<less_op> : comparison_rewrite<less_op> {};
template <>
struct rewrite<greater_op> : comparison_rewrite<greater_op> {};
template <>
struct rewrite<less_equal_op> : comparison_rewrite<less_equal_op> {};
template <>
struct rewrite<greater_equal_op> : comparison_rewrite<greater_equal_op> {};

}  // namespace tapeless::detail
