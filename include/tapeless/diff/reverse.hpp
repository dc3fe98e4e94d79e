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

constexpr no_term operator+(no_term, no_term) { return {}; }
template <class E>
constexpr term<E> operator+(no_term, term<E>) {
  return {};
}
template <class E>
constexpr term<E> operator+(term<E>, no_term) {
  return {};
}
template <class A, class B>
constexpr auto operator+(term<A>, term<B>) {
  return term<decltype(make_add(A{}, B{}))>{};
}

template <class Order, class Root, class K>
struct adjoint;

// What parent P sends to K: the sum over the operand positions where K occurs.
template <class K, class P, class G>
constexpr auto partials_to(P self, G g) {
  return [&]<class Op, class... Operands>(std::type_identity<node<Op, Operands...>>) {
    return [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      return (no_term{} + ... +
              [&] {
                if constexpr (__is_same(std::tuple_element_t<Is, std::tuple<Operands...>>, K))
                  return term<decltype(fit_adjoint<shape_of<K>>(
                      vjp_rule<Op>::template partial<Is>(self, g)))>{};
                else
                  return no_term{};
              }());
    }(std::index_sequence_for<Operands...>{});
  }(std::type_identity<P>{});
}

template <class T>
struct term_value {
  using type = typename T::type;
};
template <>
struct term_value<no_term> {
  using type = exact_constant<rational{0, 1}>;
};

// The distinct nodes of Nodes... that use K, gathered by a fold (core/
// type_list.hpp): nothing is instantiated per (node, K) pair but the test
// itself (a concept, expr/graph.hpp). A recursive concatenation made, for
// every K, a class per node holding the rest of the list: cubic in memory.
template <class Order, class K>
struct parents_of;
template <class... Nodes, class K>
struct parents_of<type_list<Nodes...>, K> {
  using type = decltype((gathered<>{} | ... |
                         std::conditional_t<uses<Nodes, K>, gathered<Nodes>, gathered<>>{}));
};

template <class Order, class Root, class K, class Parents>
struct adjoint_sum;
template <class Order, class Root, class K, class... Parents>
struct adjoint_sum<Order, Root, K, gathered<Parents...>> {
  using type = typename term_value<decltype((
      no_term{} + ... +
      partials_to<K>(Parents{}, typename adjoint<Order, Root, Parents>::type{})))>::type;
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
