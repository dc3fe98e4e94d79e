#pragma once
// The expression as a graph: its distinct nodes in topological order (operands
// before their users). Distinct means distinct type, which is why run-time
// constants are labelled first (expr/label.hpp): after that, equal types are
// equal subexpressions, and sharing is free.
//
// Compile time: the walk instantiates a few class templates per node and no
// template per pair of nodes. Membership tests use the compiler's __is_same
// inside a fold, not std::is_same_v: a variable template per (node, visited
// node) pair made the order of the 383-node derivative of a 128-deep chain
// cost g++ about 7 s, now a fraction of a second (bench/results/compile_time.md).

#include <cstddef>
#include <type_traits>

#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless::detail {

template <class Visited, class... Pending>
struct visit_each;

// Depth-first, post-order: a node not yet visited comes after its operands.
template <class Node, class Visited, bool Seen>
struct visit_node;
template <class Node, class Visited>
struct visit_node<Node, Visited, true> {
  using type = Visited;
};
template <class Leaf, class... Visited>
struct visit_node<Leaf, type_list<Visited...>, false> {
  using type = type_list<Visited..., Leaf>;
};
template <class Op, class... Operands, class... Visited>
struct visit_node<node<Op, Operands...>, type_list<Visited...>, false> {
  template <class>
  struct append;
  template <class... Done>
  struct append<type_list<Done...>> {
    using type = type_list<Done..., node<Op, Operands...>>;
  };
  using type =
      typename append<typename visit_each<type_list<Visited...>, Operands...>::type>::type;
};

template <class Visited>
struct visit_each<Visited> {
  using type = Visited;
};
template <class... Visited, class First, class... Rest>
struct visit_each<type_list<Visited...>, First, Rest...> {
  using type = typename visit_each<
      typename visit_node<First, type_list<Visited...>, (__is_same(First, Visited) || ...)>::type,
      Rest...>::type;
};

// Distinct nodes reachable from Roots, each after its operands.
template <class... Roots>
using topological_order = typename visit_each<type_list<>, Roots...>::type;

// True when a labelled constant (constant_slot) is inside E. A class per node
// holding an enumerator, read through a concept: no variable per node (g++
// keeps every variable and mangles its name, which holds the whole node).
template <class E>
struct slot_search {
  enum : bool { found = false };
};
template <std::size_t Slot, class T>
struct slot_search<constant_slot<Slot, T>> {
  enum : bool { found = true };
};
template <class Op, class... Operands>
struct slot_search<node<Op, Operands...>> {
  enum : bool { found = (slot_search<Operands>::found || ...) };
};
template <class E>
concept has_slots = bool(slot_search<E>::found);

// Does node P use K as an operand (at any position)? A concept over a
// declaration seen only by decltype, so that asking it of every pair of nodes
// (diff/reverse.hpp does) leaves nothing per pair that g++ must emit: every
// variable template specialization and every function defined is kept and
// its name, which holds both nodes, mangled; those pairs made most of the
// compile time of tl::d.
template <class K, class Op, class... Operands>
auto operand_test(const node<Op, Operands...>*) -> std::bool_constant<(__is_same(Operands, K) || ...)>;
template <class K>
auto operand_test(const void*) -> std::false_type;
template <class P, class K>
concept uses = decltype(operand_test<K>(static_cast<const P*>(nullptr)))::value;

// Number of nodes E has when shared subexpressions are counted every time
// they occur: the size of E written out as a tree.
template <class E>
inline constexpr double tree_size = 1;
template <class Op, class... Operands>
inline constexpr double tree_size<node<Op, Operands...>> = (1 + ... + tree_size<Operands>);

}  // namespace tapeless::detail
