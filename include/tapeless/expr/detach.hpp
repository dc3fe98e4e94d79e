#pragma once
// tl::detach(x): x's value, through which no derivative flows (PyTorch's
// detach, JAX's stop_gradient): every derivative of detach(x), at any order,
// is zero. For a target that training must not move (a Q-learning target
// network's output, a teacher's prediction), and for a quantity that shifts
// or scales a computation without changing its result, whose own derivative
// would only cancel (a maximum subtracted before exp).
//
//   tl::detach(tl::max<-1>(z))   // [B]: a constant to tl::grad and tl::compile
//
// A plain number passes through (there is nothing to detach).

#include <string_view>
#include <type_traits>

#include <tapeless/expr/node.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct detach_op : elementwise_operation {
  static constexpr std::string_view name = "detach";
  static constexpr auto apply(auto a) { return a; }
};

template <expression A>
constexpr auto detach(const A& a) {
  return node<detach_op, A>{a};
}
template <class T>
  requires std::is_arithmetic_v<T>
constexpr T detach(T a) {
  return a;
}

}  // namespace tapeless
