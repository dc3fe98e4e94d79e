#pragma once
// The generic expression node. An operation is an empty tag; a node is a class
// template over its tag and its operands, so identical subexpressions have
// identical types. Nodes hold only what their operands hold, so an expression
// built from symbols and exact constants is an empty constexpr value.

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>

namespace tapeless {

struct expression_tag {};

// Base of every expression type: gives it the call with named bindings,
// f(x = 0.5, y = 2.0). `evaluate` is found by argument-dependent lookup
// (expr/evaluate.hpp), so this header stays free of the evaluator.
template <class Derived>
struct expression_interface : expression_tag {
  template <class... Bindings>
  constexpr auto operator()(const Bindings&... bindings) const {
    return evaluate(static_cast<const Derived&>(*this), bindings...);
  }
};

template <class T>
concept expression = std::derived_from<std::remove_cvref_t<T>, expression_tag>;

// Operations that apply elementwise broadcast their operands' shapes.
struct elementwise_operation {
  template <class... Shapes>
  struct result_shape;
  template <class S>
  struct result_shape<S> {
    using type = S;
  };
  template <class A, class B>
  struct result_shape<A, B> {
    using type = broadcast_shape<A, B>;
  };
  template <class A, class B, class C, class... Rest>
  struct result_shape<A, B, C, Rest...> {
    using type = typename result_shape<broadcast_shape<A, B>, C, Rest...>::type;
  };
};

template <class Op, class... Operands>
struct node;

namespace detail {

// True when E holds no run-time value: then it is empty and may be made from
// its type alone. Leaves are stateless unless they say otherwise (a run-time
// constant does, in expr/constant.hpp).
template <class E>
constexpr bool is_stateless = true;
template <class Op, class... Operands>
constexpr bool is_stateless<node<Op, Operands...>> = (is_stateless<Operands> && ...);

// Where a node keeps operand I. A stateless operand is not stored at all:
// storing it would cost a byte per occurrence, and a graph that reuses a
// subexpression twice per level would double its size at every level.
template <std::size_t I, class E, bool Stored = !is_stateless<E>>
struct operand_storage {
  constexpr operand_storage() = default;
  constexpr explicit operand_storage(const E&) {}
  constexpr E get() const { return E{}; }
};
template <std::size_t I, class E>
struct operand_storage<I, E, true> {
  E value{};
  constexpr operand_storage() = default;
  constexpr explicit operand_storage(const E& e) : value(e) {}
  constexpr const E& get() const { return value; }
};

// All operands of a node, one base per position: flat, for any count. The
// bases differ by position, so two stateless operands of one type are still
// distinct empty bases, and a node of stateless operands stays empty.
template <class Indices, class... Operands>
struct operand_pack;
template <std::size_t... I, class... Operands>
struct operand_pack<std::index_sequence<I...>, Operands...> : operand_storage<I, Operands>... {
  constexpr operand_pack() = default;
  constexpr explicit operand_pack(const Operands&... values)
      : operand_storage<I, Operands>(values)... {}
};

// The base holding operand I, found by deduction (no pack indexing, no recursion).
template <std::size_t I, class E, bool Stored>
constexpr const operand_storage<I, E, Stored>& storage_at(const operand_storage<I, E, Stored>& s) {
  return s;
}

}  // namespace detail

template <class Op, class... Operands>
struct node : expression_interface<node<Op, Operands...>> {
  static_assert(sizeof...(Operands) > 0, "tapeless: a node has at least one operand");
  using operation = Op;
  using operands = detail::type_list<Operands...>;
  using shape_type =
      typename Op::template result_shape<typename Operands::shape_type...>::type;

  [[no_unique_address]] detail::operand_pack<std::index_sequence_for<Operands...>, Operands...>
      stored;

  constexpr node() = default;
  constexpr explicit(sizeof...(Operands) == 1) node(const Operands&... values)
      : stored(values...) {}
};

// Operand I of a node (a copy for stateless operands, which are empty).
template <std::size_t I, class Op, class... Operands>
constexpr decltype(auto) operand_at(const node<Op, Operands...>& n) {
  static_assert(I < sizeof...(Operands), "tapeless: operand_at<I>: I is past the node's last operand");
  return detail::storage_at<I>(n.stored).get();
}

namespace detail {

template <class E>
inline constexpr bool is_node = false;
template <class Op, class... Operands>
inline constexpr bool is_node<node<Op, Operands...>> = true;

template <class E>
struct operands_of {
  using type = type_list<>;
};
template <class Op, class... Operands>
struct operands_of<node<Op, Operands...>> {
  using type = type_list<Operands...>;
};

}  // namespace detail

template <class E>
using shape_of = typename std::remove_cvref_t<E>::shape_type;

}  // namespace tapeless
