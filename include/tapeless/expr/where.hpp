#pragma once
// tl::where(cond, a, b): a where cond is not 0, else b, elementwise, with
// NumPy broadcasting of all three (torch.where, numpy.where). cond is usually
// a comparison (x < y gives 1 or 0); a NaN cond counts as true, as any
// non-zero number does. Its derivative (diff/rules/where.hpp) sends the
// adjoint to the chosen branch only.

#include <string_view>

#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/select.hpp>

namespace tapeless {

struct where_op : elementwise_operation {
  static constexpr std::string_view name = "where";
  template <class T>
  static constexpr T apply(T cond, T a, T b) {
    return select(!(cond == T(0)), a, b);  // a NaN cond picks a (cond != 0 is ordered on AVX lanes)
  }
};

template <operand C, operand A, operand B>
  requires(expression<C> || expression<A> || expression<B>)
constexpr auto where(const C& cond, const A& a, const B& b) {
  return tapeless::make_elementwise<where_op, 'w'>(cond, a, b);
}

}  // namespace tapeless
