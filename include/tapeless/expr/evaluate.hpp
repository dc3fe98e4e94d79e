#pragma once
// Evaluating scalar expressions with named bindings: f(x = 0.5, y = 2.0).
// Each distinct node is computed once, in topological order, into a slot of a
// local array: shared subexpressions are never recomputed. Everything is
// constexpr, so expressions made of + - * / and exact powers evaluate at
// compile time on every compiler.

#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

// The failures below carry the symbol's name as a template argument, so the
// compiler's "required from" line shows it: no_binding_for_symbol<"x">.
template <fixed_string Name>
struct no_binding_for_symbol {
  static_assert(always_false_value<Name>,
                "tapeless: the expression uses a symbol that has no binding; pass it as "
                "name = value (the symbol is named in no_binding_for_symbol<...> above)");
  static constexpr bool ok = false;
};

template <fixed_string Name>
struct symbol_bound_twice {
  static_assert(always_false_value<Name>,
                "tapeless: the same symbol is bound twice; bind each symbol once (the symbol "
                "is named in symbol_bound_twice<...> above)");
  static constexpr bool ok = false;
};

template <fixed_string Name>
struct two_symbols_share_a_name {
  static_assert(always_false_value<Name>,
                "tapeless: two different symbols (kind, element type or shape differ) share "
                "one name; give each its own name (see two_symbols_share_a_name<...> above)");
  static constexpr bool ok = false;
};

template <class B>
struct not_a_binding {
  static_assert(always_false<B>,
                "tapeless: an expression is called with bindings written name = value, "
                "e.g. f(x = 0.5, y = 2.0); this argument is not one");
  static constexpr bool ok = false;
};

template <fixed_string Name, class... Bindings>
inline constexpr std::size_t binding_count = (std::size_t{0} + ... + (Bindings::name == Name));

template <class B, class... Bindings>
constexpr bool check_binding() {
  if constexpr (!is_binding<B>)
    return not_a_binding<B>::ok;
  else if constexpr (binding_count<B::name, Bindings...> != 1)
    return symbol_bound_twice<B::name>::ok;
  else
    return true;
}

template <class... Bindings>
constexpr bool check_bindings() {
  if constexpr (!(is_binding<Bindings> && ...))
    return (check_binding<Bindings>() && ...);
  else
    return (check_binding<Bindings, Bindings...>() && ...);
}

template <class Node, class... Bindings>
constexpr bool check_bound() {
  if constexpr (!is_symbol<Node>)
    return true;
  else if constexpr (binding_count<Node::name, Bindings...> == 0)
    return no_binding_for_symbol<Node::name>::ok;
  else
    return true;
}

template <class Node, class... Nodes>
constexpr bool check_unique_name() {
  if constexpr (!is_symbol<Node>)
    return true;
  else {
    constexpr bool clash = (... || [] {
      if constexpr (is_symbol<Nodes>)
        return Nodes::name == Node::name && !std::is_same_v<Nodes, Node>;
      else
        return false;
    }());
    if constexpr (clash)
      return two_symbols_share_a_name<Node::name>::ok;
    else
      return true;
  }
}

template <fixed_string Name, class First, class... Rest>
constexpr const auto& find_binding(const First& first, const Rest&... rest) {
  if constexpr (First::name == Name)
    return first;
  else
    return find_binding<Name>(rest...);
}

template <class B>
using bound_arithmetic = std::conditional_t<std::is_arithmetic_v<typename B::value_type>,
                                            typename B::value_type, void>;

template <class... Ts>
struct common_arithmetic {
  using type = double;
};
template <class T, class... Ts>
struct common_arithmetic<T, Ts...> {
  using rest = typename common_arithmetic<Ts...>::type;
  using type = std::conditional_t<std::is_void_v<T>, rest, std::common_type_t<T, rest>>;
};
template <class T>
struct common_arithmetic<T> {
  using type = std::conditional_t<std::is_void_v<T>, double, T>;
};

}  // namespace detail

// The type scalar evaluation computes in: the common type of the bound numbers,
// floating point (integers promote to double).
template <class... Bindings>
using evaluation_type = std::conditional_t<
    std::is_floating_point_v<
        typename detail::common_arithmetic<detail::bound_arithmetic<Bindings>...>::type>,
    typename detail::common_arithmetic<detail::bound_arithmetic<Bindings>...>::type, double>;

namespace detail {

// Where each node's value sits in the evaluator's array: positions<Order>
// derives from position_tag<I, T> for the I-th node T, and position_of<T>
// finds I by deduction from that base. Unlike index_of, this instantiates
// nothing per pair of nodes, which made evaluation the larger part of the
// compile time (and memory) of a deep expression.
template <std::size_t I, class T>
struct position_tag {};

template <class Order, class Indices = std::make_index_sequence<Order::size>>
struct positions;
template <class... Nodes, std::size_t... I>
struct positions<type_list<Nodes...>, std::index_sequence<I...>> : position_tag<I, Nodes>... {};

template <class T, std::size_t I>
constexpr std::size_t position_of(const position_tag<I, T>*) {
  return I;
}

template <class V, class Order, class Table, class... Bindings>
struct scalar_evaluator;

template <class V, class... Nodes, class Table, class... Bindings>
struct scalar_evaluator<V, type_list<Nodes...>, Table, Bindings...> {
  using values_type = std::array<V, sizeof...(Nodes)>;
  static constexpr const positions<type_list<Nodes...>>* order = nullptr;

  template <class Operand, class Op>
  static constexpr auto argument(const values_type& values) {
    if constexpr (requires { Op::takes_exact_operands; } && is_exact<Operand>)
      return Operand{};
    else
      return values[position_of<Operand>(order)];
  }

  template <class Node>
  static constexpr V value_of(const values_type& values, const Table& table,
                              const Bindings&... bindings) {
    if constexpr (is_symbol<Node>)
      return static_cast<V>(find_binding<Node::name>(bindings...).value);
    else if constexpr (is_exact<Node>)
      return Node::value.template as<V>();
    else if constexpr (is_slot<Node>)
      return static_cast<V>(static_cast<typename Node::value_type>(table[Node::slot]));
    else
      return [&]<class Op, class... Operands>(std::type_identity<node<Op, Operands...>>) {
        return static_cast<V>(Op::apply(argument<Operands, Op>(values)...));
      }(std::type_identity<Node>{});
  }

  // Computes every node, in order, and returns the values of Roots only. The
  // array of all values never leaves this function, so the compiler can keep
  // it in registers; it is not zeroed first (every element is written before
  // it is read), which on a large graph would be a memset per call.
  template <class... Roots>
  static constexpr std::array<V, sizeof...(Roots)> run(const Table& table,
                                                       const Bindings&... bindings) {
    values_type values;
    ((values[position_of<Nodes>(order)] = value_of<Nodes>(values, table, bindings...)), ...);
    return {values[position_of<Roots>(order)]...};
  }
};

}  // namespace detail

// Values of several labelled roots in one pass over their shared graph.
template <class V, class... Roots, class Table, class... Bindings>
constexpr std::array<V, sizeof...(Roots)> evaluate_structures(const Table& table,
                                                              const Bindings&... bindings) {
  using order = detail::topological_order<Roots...>;
  using evaluator = detail::scalar_evaluator<V, order, Table, Bindings...>;
  return evaluator::template run<Roots...>(table, bindings...);
}

namespace detail {

template <class Order, class... Bindings>
struct binding_checks;
template <class... Nodes, class... Bindings>
struct binding_checks<type_list<Nodes...>, Bindings...> {
  static constexpr bool ok = (check_bound<Nodes, Bindings...>() && ...) &&
                             (check_unique_name<Nodes, Nodes...>() && ...);
};

template <class E>
struct tensor_evaluation_needs_compile {
  static_assert(always_false<E>,
                "tapeless: calling an expression evaluates scalars (rank 0); a tensor "
                "expression is evaluated by a program made with tl::compile");
  static constexpr bool ok = false;
};

}  // namespace detail

// Checks the bindings against the symbols of the labelled roots (a type_list):
// one static_assert, naming the symbol, per problem.
template <class Roots, class... Bindings>
constexpr bool check_evaluation() {
  if constexpr (!detail::check_bindings<Bindings...>())
    return false;
  else
    return detail::binding_checks<typename Roots::template apply<detail::topological_order>,
                                  Bindings...>::ok;
}

template <expression E, class... Bindings>
constexpr auto evaluate(const E& e, const Bindings&... bindings) {
  using V = evaluation_type<Bindings...>;
  const auto labelled_e = label(e);
  using S = typename decltype(labelled_e)::structure;
  if constexpr (shape_of<E>::rank != 0)
    return detail::tensor_evaluation_needs_compile<E>::ok;
  else if constexpr (!check_evaluation<detail::type_list<S>, Bindings...>())
    return V{};
  else
    return evaluate_structures<V, S>(labelled_e.constants, bindings...)[0];
}

}  // namespace tapeless
