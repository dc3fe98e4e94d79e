#pragma once
// The expression as a graph: its distinct nodes in topological order (operands
// before their users). Distinct means distinct type, which is why run-time
// constants are labelled first (expr/label.hpp): after that, equal types are
// equal subexpressions, and sharing is free.

#include <type_traits>

#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless::detail {

template <class Node, class Visited>
struct visit;

template <class Pending, class Visited>
struct visit_all;
template <class Visited>
struct visit_all<type_list<>, Visited> {
  using type = Visited;
};
template <class First, class... Rest, class Visited>
struct visit_all<type_list<First, Rest...>, Visited> {
  using type = typename visit_all<type_list<Rest...>, typename visit<First, Visited>::type>::type;
};

template <class Node, class Visited>
struct visit_unseen {
  using type = typename push_back<typename visit_all<typename operands_of<Node>::type, Visited>::type,
                                  Node>::type;
};

// Depth-first, post-order; a node already visited is not entered again, so
// the walk is linear in the number of distinct nodes.
template <class Node, class Visited>
struct visit {
  using type = typename std::conditional_t<contains<Node, Visited>, std::type_identity<Visited>,
                                           visit_unseen<Node, Visited>>::type;
};

// Distinct nodes reachable from Roots, each after its operands.
template <class... Roots>
using topological_order = typename visit_all<type_list<Roots...>, type_list<>>::type;

// True when a labelled constant (constant_slot) is inside E.
template <class E>
inline constexpr bool has_slots = is_slot<E>;
template <class Op, class... Operands>
inline constexpr bool has_slots<node<Op, Operands...>> = (has_slots<Operands> || ...);

// Does node P use K as an operand (at any position)?
template <class P, class K>
inline constexpr bool uses = false;
template <class Op, class... Operands, class K>
inline constexpr bool uses<node<Op, Operands...>, K> = (std::is_same_v<Operands, K> || ...);

// Number of nodes E has when shared subexpressions are counted every time
// they occur: the size of E written out as a tree.
template <class E>
inline constexpr double tree_size = 1;
template <class Op, class... Operands>
inline constexpr double tree_size<node<Op, Operands...>> = (1 + ... + tree_size<Operands>);

}  // namespace tapeless::detail
