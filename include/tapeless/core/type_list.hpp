#pragma once
// Flat type lists and the few operations the graph algorithms need.
// Membership uses a base-class lookup (one instantiation, no recursion).

#include <cstddef>
#include <type_traits>

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

template <class T>
struct type_tag {
  using type = T;
};

template <class... Ts>
struct type_set : type_tag<Ts>... {};

template <class T, class List>
inline constexpr bool contains = false;
template <class T, class... Ts>
inline constexpr bool contains<T, type_list<Ts...>> = (std::is_same_v<T, Ts> || ...);

template <class List, class T>
struct push_back;
template <class... Ts, class T>
struct push_back<type_list<Ts...>, T> {
  using type = type_list<Ts..., T>;
};

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

template <class A, class B>
struct concat;
template <class... As, class... Bs>
struct concat<type_list<As...>, type_list<Bs...>> {
  using type = type_list<As..., Bs...>;
};

}  // namespace tapeless::detail
