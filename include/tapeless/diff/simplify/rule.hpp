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

// The rewrites of an operation outside the arithmetic core, in its own rules
// file (diff/rules/where.hpp, ...): rewrite<Op>::make(operands...) builds its
// node simplified. make_node (diff/simplify/rules.hpp) calls it when it exists.
template <class Op>
struct rewrite {};

// The tests the rules ask of their operands are concepts, not variable
// templates: g++ keeps every variable template specialization and mangles its
// name, which holds the whole operand, so a test per node made compile time
// grow with the square of the depth (bench/results/compile_time.md). Exact
// constants are normalized, so equal values are equal types.
template <class E, rational R>
concept is_exact_value = __is_same(E, exact_constant<R>);

template <class E>
concept is_zero = is_exact_value<E, rational{0, 1}>;
template <class E>
concept is_one = is_exact_value<E, rational{1, 1}>;
template <class E>
concept is_minus_one = is_exact_value<E, rational{-1, 1}>;

// Declared only: overload resolution tells an exact constant from the rest.
template <rational R>
void exact_probe(const exact_constant<R>*);

template <class E>
concept is_exact_constant = requires(const E* e) { detail::exact_probe(e); };

}  // namespace tapeless::detail
