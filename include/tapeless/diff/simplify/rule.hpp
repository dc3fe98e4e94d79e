#pragma once
// Vocabulary of the rewrite rules. The simplifier works on labelled
// structures (every node an empty type, equal types equal values), so a rule
// is a function overload from operand types to a result; `priority<N>` orders
// rules that match the same operands (the highest N wins), which lets each
// rule be written alone with its comment, as a row of a table.

#include <tapeless/core/rational.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless::detail {

template <int N>
struct priority : priority<N - 1> {};
template <>
struct priority<0> {};

inline constexpr priority<32> highest_priority{};

template <rational R>
using exact = exact_constant<R>;

template <class E, rational R>
inline constexpr bool is_exact_value = false;
template <rational V, rational R>
inline constexpr bool is_exact_value<exact_constant<V>, R> = V == R;

template <class E>
inline constexpr bool is_zero = is_exact_value<E, rational{0, 1}>;
template <class E>
inline constexpr bool is_one = is_exact_value<E, rational{1, 1}>;
template <class E>
inline constexpr bool is_minus_one = is_exact_value<E, rational{-1, 1}>;

template <class E, class Op>
inline constexpr bool is_op = false;
template <class Op, class... Operands>
inline constexpr bool is_op<node<Op, Operands...>, Op> = true;

template <class E>
inline constexpr bool is_exact_integer = false;
template <rational R>
inline constexpr bool is_exact_integer<exact_constant<R>> = R.den == 1;

}  // namespace tapeless::detail
