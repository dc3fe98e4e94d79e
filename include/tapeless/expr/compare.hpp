#pragma once
// Comparisons, elementwise, giving 1 where they hold and 0 where not (in the
// element type, as NumPy's a < b cast to float): equal(a, b), not_equal(a, b),
// a < b, a > b, a <= b, a >= b. They make the conditions of tl::where; their
// derivative is 0 (diff/rules/compare.hpp). A comparison with NaN is 0, but
// not_equal, which is 1, as in IEEE arithmetic. Written with select, they run
// on SIMD lanes as they are (expr/select.hpp). There is no operator== or
// operator!= on expressions: C++ reads those as questions about the
// expression itself; equal and not_equal build the elementwise test.

#include <string_view>

#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/select.hpp>

namespace tapeless {

// Printed between its operands, binding more loosely than + and -.
struct comparison_operation : elementwise_operation {
  static constexpr int precedence = 0;
};

struct equal_op : elementwise_operation {
  static constexpr std::string_view name = "equal";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(a == b, T(1), T(0));
  }
};

struct not_equal_op : elementwise_operation {
  static constexpr std::string_view name = "not_equal";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(!(a == b), T(1), T(0));  // not a != b: on AVX lanes xsimd compares ordered, NaN != NaN false
  }
};

struct less_op : comparison_operation {
  static constexpr std::string_view infix = " < ";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(a < b, T(1), T(0));
  }
};

struct greater_op : comparison_operation {
  static constexpr std::string_view infix = " > ";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(a > b, T(1), T(0));
  }
};

struct less_equal_op : comparison_operation {
  static constexpr std::string_view infix = " <= ";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(a <= b, T(1), T(0));
  }
};

struct greater_equal_op : comparison_operation {
  static constexpr std::string_view infix = " >= ";
  template <class T>
  static constexpr T apply(T a, T b) {
    return select(a >= b, T(1), T(0));
  }
};

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto equal(const A& a, const B& b) {
  return tapeless::make_elementwise<equal_op, '='>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto not_equal(const A& a, const B& b) {
  return tapeless::make_elementwise<not_equal_op, '!'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator<(const A& a, const B& b) {
  return tapeless::make_elementwise<less_op, '<'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator>(const A& a, const B& b) {
  return tapeless::make_elementwise<greater_op, '>'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator<=(const A& a, const B& b) {
  return tapeless::make_elementwise<less_equal_op, 'l'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator>=(const A& a, const B& b) {
  return tapeless::make_elementwise<greater_equal_op, 'g'>(a, b);
}

}  // namespace tapeless
