#pragma once
// + - * / and unary minus: elementwise, with NumPy broadcasting.

#include <string_view>

#include <tapeless/expr/operand.hpp>

namespace tapeless {

struct add_op : elementwise_operation {
  static constexpr std::string_view infix = " + ";
  static constexpr int precedence = 1;
  static constexpr auto apply(auto a, auto b) { return a + b; }
};

struct sub_op : elementwise_operation {
  static constexpr std::string_view infix = " - ";
  static constexpr int precedence = 1;
  static constexpr auto apply(auto a, auto b) { return a - b; }
};

struct mul_op : elementwise_operation {
  static constexpr std::string_view infix = "*";
  static constexpr int precedence = 2;
  static constexpr auto apply(auto a, auto b) { return a * b; }
};

struct div_op : elementwise_operation {
  static constexpr std::string_view infix = "/";
  static constexpr int precedence = 2;
  static constexpr auto apply(auto a, auto b) { return a / b; }
};

struct neg_op : elementwise_operation {
  static constexpr std::string_view prefix = "-";
  static constexpr int precedence = 3;
  static constexpr auto apply(auto a) { return -a; }
};

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator+(const A& a, const B& b) {
  return tapeless::make_elementwise<add_op, '+'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator-(const A& a, const B& b) {
  return tapeless::make_elementwise<sub_op, '-'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator*(const A& a, const B& b) {
  return tapeless::make_elementwise<mul_op, '*'>(a, b);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto operator/(const A& a, const B& b) {
  return tapeless::make_elementwise<div_op, '/'>(a, b);
}

template <expression A>
constexpr auto operator-(const A& a) {
  return node<neg_op, A>{a};
}

template <expression A>
constexpr const A& operator+(const A& a) {
  return a;
}

}  // namespace tapeless
