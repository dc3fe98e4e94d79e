#pragma once
// Turning builder arguments into expressions, and the one shape check every
// elementwise builder makes.

#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

// What a builder accepts: an expression, or a plain number (a run-time constant).
template <class T>
concept operand = expression<T> || std::is_arithmetic_v<std::remove_cvref_t<T>>;

template <class T>
constexpr auto as_expression(const T& value) {
  if constexpr (expression<T>)
    return value;
  else
    return constant<T>{value};
}

template <class T>
using as_expression_t = decltype(as_expression(std::declval<const T&>()));

namespace detail {

// Fails with both shapes in the instantiation context, which compilers print:
// "elementwise_shape_mismatch<'+', shape<64, 10>, shape<64, 3>>".
template <char Op, class A, class B>
struct elementwise_shape_mismatch {
  static_assert(always_false<A, B>,
                "tapeless: operand shapes do not broadcast (NumPy rules: trailing dimensions "
                "must be equal or 1); see the two shapes in elementwise_shape_mismatch<op, "
                "left, right> above");
  static constexpr bool ok = false;
};

template <char Op, class A, class B>
constexpr bool check_broadcast() {
  if constexpr (shapes_broadcast<A, B>)
    return true;
  else
    return elementwise_shape_mismatch<Op, A, B>::ok;
}

// The shapes of several operands broadcast together, checked pair by pair
// from the left, so a failure names the two shapes that clash.
template <char Op, class Shape, class Next, class... Rest>
constexpr bool check_broadcast_all() {
  if constexpr (!check_broadcast<Op, Shape, Next>())
    return false;
  else if constexpr (sizeof...(Rest) == 0)
    return true;
  else
    return check_broadcast_all<Op, broadcast_shape<Shape, Next>, Rest...>();
}

}  // namespace detail

// Builds node<Op, A, B> from two builder arguments after checking their shapes.
template <class Op, char Symbol, class A, class B>
constexpr auto make_elementwise(const A& a, const B& b) {
  using EA = as_expression_t<A>;
  using EB = as_expression_t<B>;
  if constexpr (detail::check_broadcast<Symbol, typename EA::shape_type, typename EB::shape_type>())
    return node<Op, EA, EB>{as_expression(a), as_expression(b)};
}

// Builds node<Op, Operands...> from three or more builder arguments (expressions
// or plain numbers) after checking that their shapes broadcast together.
template <class Op, char Symbol, class A, class B, class C, class... Rest>
constexpr auto make_elementwise(const A& a, const B& b, const C& c, const Rest&... rest) {
  if constexpr (detail::check_broadcast_all<Symbol, typename as_expression_t<A>::shape_type,
                                            typename as_expression_t<B>::shape_type,
                                            typename as_expression_t<C>::shape_type,
                                            typename as_expression_t<Rest>::shape_type...>())
    return node<Op, as_expression_t<A>, as_expression_t<B>, as_expression_t<C>,
                as_expression_t<Rest>...>{as_expression(a), as_expression(b), as_expression(c),
                                          as_expression(rest)...};
}

}  // namespace tapeless
