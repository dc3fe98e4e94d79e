#pragma once
// Elementwise max and min of two operands (NaN propagates, as in PyTorch).

#include <string_view>

#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct max_op : elementwise_operation {
  static constexpr std::string_view name = "max";
  template <class T>
  static constexpr T apply(T a, T b) {
    return (a > b || a != a) ? a : b;
  }
};

struct min_op : elementwise_operation {
  static constexpr std::string_view name = "min";
  template <class T>
  static constexpr T apply(T a, T b) {
    return (a < b || a != a) ? a : b;
  }
};

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto max(const A& a, const B& b) {
  return tapeless::make_elementwise<max_op, 'M'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto min(const A& a, const B& b) {
  return tapeless::make_elementwise<min_op, 'm'>(a, b);
}

}  // namespace tapeless
