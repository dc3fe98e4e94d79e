#pragma once
// Reverse accumulation over the de-duplicated graph, at compile time.
//
// The adjoint of node K is the sum, over the distinct nodes P that use K, of
// what P's rule sends to K given P's own adjoint, fitted to K's shape
// (summed over the dimensions K was broadcast along). adjoint<Order, Root, K> is a
// class template, so each adjoint is computed once however many paths lead to
// it, and the result shares every adjoint by type: the derivative of a
// depth-N chain has O(N) distinct nodes. Only the ancestors of the requested
// symbol get an adjoint.

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/graph.hpp>

namespace tapeless::detail {

struct no_term {};
template <class E>
struct term {
  using type = E;
};

// Terms are added by named, qualified calls, not by operator+ in a fold: an
// operator is found by argument-dependent lookup, which walks every node of
// the graph in term<E>'s argument (clang 14 spent minutes there:
// core/type_list.hpp).
constexpr no_term add_terms(no_term, no_term) { return {}; }
template <class E>
constexpr term<E> add_terms(no_term, term<E>) {
  return {};
}
template <class E>
constexpr term<E> add_terms(term<E>, no_term) {
  return {};
}
template <class A, class B>
constexpr auto add_terms(term<A>, term<B>) {
  return term<decltype(detail::make_add(A{}, B{}))>{};
}

// no_term + t0 + t1 + ..., added from the left (the order fixes the sum's type).
template <class Sum, class... Terms>
struct sum_of_terms {
  using type = Sum;
};
template <class Sum, class T, class... Terms>
struct sum_of_terms<Sum, T, Terms...> : sum_of_terms<decltype(detail::add_terms(Sum{}, T{})), Terms...> {};

template <class Order, class Root, class K>
struct adjoint;

// What parent P sends to K: the sum over the operand positions where K occurs.
// Class templates, not lambdas: nested generic lambdas per (parent, child)
// made g++ build closure types and instantiate their call operators for every
// edge, about a tenth of what a derivative allocates (g++ 12: a second
// derivative of a 40-node formula 143 -> 137 MB, a third 320 -> 302 MB).
template <bool Uses, std::size_t I, class P, class G, class K>
struct partial_term {
  using type = no_term;
};
template <std::size_t I, class Op, class... Operands, class G, class K>
struct partial_term<true, I, node<Op, Operands...>, G, K> {
  using type = term<decltype(detail::fit_adjoint<shape_of<K>>(
      vjp_rule<Op>::template partial<I>(node<Op, Operands...>{}, G{})))>;
};

template <class K, class P, class G, class Indices>
struct partials_over;
template <class K, class Op, class... Operands, class G, std::size_t... Is>
struct partials_over<K, node<Op, Operands...>, G, std::index_sequence<Is...>> {
  using type = typename sum_of_terms<
      no_term, typename partial_term<__is_same(Operands, K), Is, node<Op, Operands...>, G, K>::type...>::type;
};
template <class K, class P, class G>
struct partials_to;
template <class K, class Op, class... Operands, class G>
struct partials_to<K, node<Op, Operands...>, G>
    : partials_over<K, node<Op, Operands...>, G, std::index_sequence_for<Operands...>> {};

template <class T>
struct term_value {
  using type = typename T::type;
};
template <>
struct term_value<no_term> {
  using type = exact_constant<rational{0, 1}>;
};

// The distinct nodes that use each node, computed once per graph. Asking
// "does P use K?" of every pair (a fold per K over all nodes) was quadratic in
// concept checks and their cached satisfactions: for a 200-node graph it was
// most of tl::d's time and memory (bench/results/compile_time.md). Now every
// node is given its position by a base-class lookup, the edges are grouped by
// operand in one constexpr function (no instantiation per edge), and K's
// parents are read back from the positions.
template <std::size_t I, class T>
struct graph_position {
  static std::integral_constant<std::size_t, I> at(T**);
  static std::type_identity<T> node_at(std::integral_constant<std::size_t, I>);
};
struct not_in_graph {
  static std::integral_constant<std::size_t, std::size_t(-1)> at(const void*);
};

template <class Order, class Indices = std::make_index_sequence<Order::size>>
struct graph_positions;
template <class... Nodes, std::size_t... I>
struct graph_positions<type_list<Nodes...>, std::index_sequence<I...>> : not_in_graph, graph_position<I, Nodes>... {
  using not_in_graph::at;
  using graph_position<I, Nodes>::at...;
  using graph_position<I, Nodes>::node_at...;
};

// Not inline, so that g++ never mangles its name, which spells the whole
// graph (core/type_list.hpp).
template <class Positions, class Node>
constexpr std::array<std::size_t, 0> operand_positions{};
template <class Positions, class Op, class... Operands>
constexpr std::array<std::size_t, sizeof...(Operands)> operand_positions<Positions, node<Op, Operands...>>{
    decltype(Positions::at(static_cast<Operands**>(nullptr)))::value...};

// Parents grouped by node (compressed rows): the parents of the node at k are
// parents[first[k]] .. parents[first[k + 1] - 1], in the order of the graph.
template <class Order>
struct parent_table;
template <class... Nodes>
struct parent_table<type_list<Nodes...>> {
  using positions = graph_positions<type_list<Nodes...>>;
  static constexpr std::size_t node_count = sizeof...(Nodes);
  static constexpr std::size_t edge_count = (std::size_t{0} + ... + operand_positions<positions, Nodes>.size());

  struct rows {
    std::array<std::size_t, node_count + 1> first{};
    std::array<std::size_t, edge_count + 1> parents{};
  };
  static constexpr rows table = [] {
    rows r{};
    std::array<std::size_t, edge_count + 1> child{}, parent{};
    std::size_t edges = 0, p = 0;
    const auto add_edges = [&](const auto& operands) {
      for (std::size_t k : operands) {
        // A node using K twice (x*x) is one parent.
        bool again = false;
        for (std::size_t e = edges; e > 0 && parent[e - 1] == p; --e) again = again || child[e - 1] == k;
        if (!again && k < node_count) child[edges] = k, parent[edges] = p, ++edges;
      }
      ++p;
    };
    (add_edges(operand_positions<positions, Nodes>), ...);
    std::array<std::size_t, node_count + 1> count{};
    for (std::size_t e = 0; e < edges; ++e) ++count[child[e]];
    for (std::size_t k = 0; k < node_count; ++k) r.first[k + 1] = r.first[k] + count[k];
    std::array<std::size_t, node_count + 1> next{};
    for (std::size_t k = 0; k < node_count; ++k) next[k] = r.first[k];
    for (std::size_t e = 0; e < edges; ++e) r.parents[next[child[e]]++] = parent[e];
    return r;
  }();
};

template <class Table, std::size_t First, std::size_t... J>
auto gather_parents(std::index_sequence<J...>)
    -> gathered<typename decltype(Table::positions::node_at(
        std::integral_constant<std::size_t, Table::table.parents[First + J]>{}))::type...>;

template <class Table, std::size_t K, bool InGraph = (K < Table::node_count)>
struct parents_at {
  using type = gathered<>;
};
template <class Table, std::size_t K>
struct parents_at<Table, K, true> {
  using type = decltype(detail::gather_parents<Table, Table::table.first[K]>(
      std::make_index_sequence<Table::table.first[K + 1] - Table::table.first[K]>{}));
};

template <class Order, class K>
struct parents_of {
  using table = parent_table<Order>;
  using type = typename parents_at<
      table, decltype(table::positions::at(static_cast<K**>(nullptr)))::value>::type;
};

template <class Order, class Root, class K, class Parents>
struct adjoint_sum;
template <class Order, class Root, class K, class... Parents>
struct adjoint_sum<Order, Root, K, gathered<Parents...>> {
  using type = typename term_value<typename sum_of_terms<
      no_term, typename partials_to<K, Parents, typename adjoint<Order, Root, Parents>::type>::type...>::type>::type;
};

template <class Order, class Root, class K>
struct adjoint {
  using type =
      typename adjoint_sum<Order, Root, K, typename parents_of<Order, K>::type>::type;
};

// The root's adjoint is the seed, 1.
template <class Order, class Root>
struct adjoint<Order, Root, Root> {
  using type = exact_constant<rational{1, 1}>;
};

// d Root / d K for a labelled, simplified Root.
template <class Root, class K>
using derivative_t = typename adjoint<topological_order<Root>, Root, K>::type;

}  // namespace tapeless::detail
