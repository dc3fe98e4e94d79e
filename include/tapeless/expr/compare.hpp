#pragma once
// equal(a, b): 1 where a == b, else 0, elementwise. The derivative of a max
// reduction needs it (which elements were the maximum).

#include <string_view>

#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct equal_op : elementwise_operation {
  static constexpr std::string_view name = "equal";
  template <class T>
  static constexpr T apply(T a, T b) {
    return a == b ? T(1) : T(0);
  }
};

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto equal(const A& a, const B& b) {
  return make_elementwise<equal_op, '='>(a, b);
}

}  // namespace tapeless
