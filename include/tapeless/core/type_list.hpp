#pragma once
// Flat type lists and the few operations the graph algorithms need.
// Lookups by position use a base-class lookup (one instantiation, no recursion).

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

// A list's size is a member of a base named by the count alone: a static
// member of type_list<Ts...> itself would be a symbol per list, whose name
// g++ mangles with every type in the list (see contains below).
template <std::size_t N>
struct list_size {
  static constexpr std::size_t size = N;
};
template <class... Ts>
struct type_list : list_size<sizeof...(Ts)> {
  template <template <class...> class F>
  using apply = F<Ts...>;
};

// Types gathered by a fold over a declared-only operator:
//   decltype((gathered<>{} | ... | std::conditional_t<test<Ts>, gathered<Ts>, gathered<>>{}))
// keeps the Ts that pass, instantiating nothing per element but the test (a
// recursive concatenation makes a class per element holding the rest).
template <class... Ts>
struct gathered {};
template <class... As, class... Bs>
gathered<As..., Bs...> operator|(gathered<As...>, gathered<Bs...>);

// Type comparisons here use the compiler's __is_same, not std::is_same_v:
// that is a variable template of external linkage per pair of types, and g++
// mangles every one (its name spells both types in full: for a program's
// node list, thousands of names of up to tens of kilobytes;
// bench/results/compile_cost.md). For the same reason the predicates over
// expression types (contains, is_exact, is_symbol, is_stateless, ...) are
// constexpr variable templates that are not `inline`: g++ gives those
// internal linkage and never needs their names, where it mangles an inline
// one's for every type it is asked of. They are only read as constants, so
// a copy per translation unit costs nothing.
template <class T, class List>
constexpr bool contains = false;
template <class T, class... Ts>
constexpr bool contains<T, type_list<Ts...>> = (__is_same(T, Ts) || ...);

// Is every type of list A in list B?
template <class A, class B>
constexpr bool contains_all = false;
template <class... As, class B>
constexpr bool contains_all<type_list<As...>, B> = (contains<As, B> && ...);

// Position of T in List (List must contain T exactly once).
template <class T, class List>
struct index_of;
template <class T, class... Ts>
struct index_of<T, type_list<Ts...>> {
  static constexpr std::size_t value = [] {
    constexpr bool hits[] = {__is_same(T, Ts)..., false};
    std::size_t i = 0;
    while (!hits[i]) ++i;
    return i;
  }();
};
template <class T, class List>
inline constexpr std::size_t index_of_v = index_of<T, List>::value;

template <class List>
struct front;
template <class T, class... Ts>
struct front<type_list<T, Ts...>> {
  using type = T;
};


// The type at position I of a list, by overload resolution on indexed bases
// (no recursion over the list). The call to pick is qualified, which turns
// off argument-dependent lookup: clang 14 gathers the associated classes of
// an argument through every template argument of every class it reaches, and
// an unqualified pick over a program's node list did that for the whole graph
// at each of the schedule's hundreds of lookups (three residual
// layer-norm levels, bench/compile/residual_norms.cpp: over 300 s with clang
// 14 at -O0, 5.6 s qualified).
// Every call whose arguments spell a graph is qualified for the same reason
// (the derivative rules' and the simplifier's make_* calls too:
// bench/results/compile_cost.md).
template <std::size_t I, class T>
struct indexed_type {
  using type = T;
};
template <class Seq, class... Ts>
struct indexed_types;
template <std::size_t... Is, class... Ts>
struct indexed_types<std::index_sequence<Is...>, Ts...> : indexed_type<Is, Ts>... {};
template <std::size_t I, class T>
indexed_type<I, T> pick(const indexed_type<I, T>&);
template <std::size_t I, class List>
struct type_at;
template <std::size_t I, class... Ts>
struct type_at<I, type_list<Ts...>> {
  using type = typename decltype(detail::pick<I>(indexed_types<std::index_sequence_for<Ts...>, Ts...>{}))::type;
};

}  // namespace tapeless::detail
