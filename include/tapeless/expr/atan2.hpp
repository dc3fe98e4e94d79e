#pragma once
// atan2(y, x): the angle of the point (x, y), in (-pi, pi], elementwise with
// broadcasting; with two plain numbers it is std::atan2.

#include <cmath>
#include <string_view>
#include <type_traits>

#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct atan2_op : elementwise_operation {
  static constexpr std::string_view name = "atan2";
  static constexpr auto apply(auto y, auto x) {
    using std::atan2;
    return atan2(y, x);
  }
};

template <operand Y, operand X>
  requires(expression<Y> || expression<X>)
constexpr auto atan2(const Y& y, const X& x) {
  return tapeless::make_elementwise<atan2_op, 'a'>(y, x);
}
template <class Y, class X>
  requires(std::is_arithmetic_v<Y> && std::is_arithmetic_v<X>)
constexpr auto atan2(Y y, X x) {
  return atan2_op::apply(detail::as_floating(y), detail::as_floating(x));
}

}  // namespace tapeless
