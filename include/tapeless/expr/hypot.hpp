#pragma once
// hypot(a, b) = sqrt(a^2 + b^2) without overflow or underflow on the way,
// elementwise with broadcasting; with two plain numbers it is std::hypot.

#include <cmath>
#include <string_view>
#include <type_traits>

#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct hypot_op : elementwise_operation {
  static constexpr std::string_view name = "hypot";
  static constexpr auto apply(auto a, auto b) {
    using std::hypot;
    return hypot(a, b);
  }
};

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto hypot(const A& a, const B& b) {
  return tapeless::make_elementwise<hypot_op, 'h'>(a, b);
}
template <class A, class B>
  requires(std::is_arithmetic_v<A> && std::is_arithmetic_v<B>)
constexpr auto hypot(A a, B b) {
  return hypot_op::apply(detail::as_floating(a), detail::as_floating(b));
}

}  // namespace tapeless
