#pragma once
// Flat type lists and the few operations the graph algorithms need.
// Lookups by position use a base-class lookup (one instantiation, no recursion).

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tapeless::detail {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
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

template <class T, class List>
inline constexpr bool contains = false;
template <class T, class... Ts>
inline constexpr bool contains<T, type_list<Ts...>> = (std::is_same_v<T, Ts> || ...);

// Position of T in List (List must contain T exactly once).
template <class T, class List>
struct index_of;
template <class T, class... Ts>
struct index_of<T, type_list<Ts...>> {
  static constexpr std::size_t value = [] {
    constexpr bool hits[] = {std::is_same_v<T, Ts>..., false};
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
