#pragma once
// d detach(a) = 0: no adjoint reaches a through detach, at any order.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/detach.hpp>

namespace tapeless::detail {

template <>
struct vjp_rule<detach_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<detach_op, A>, G) {
    return exact<rational{0, 1}>{};
  }
};

}  // namespace tapeless::detail
