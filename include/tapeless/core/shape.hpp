#pragma once
// Static shapes and NumPy broadcasting. A scalar is shape<> (rank 0).

#include <array>
#include <cstddef>
#include <type_traits>

namespace tapeless {

template <std::size_t... Dims>
struct shape {
  static constexpr std::size_t rank = sizeof...(Dims);
  static constexpr std::size_t size = (std::size_t{1} * ... * Dims);
  static constexpr std::array<std::size_t, rank> dims{Dims...};
};

using scalar_shape = shape<>;

namespace detail {

template <class S>
inline constexpr bool is_shape = false;
template <std::size_t... Dims>
inline constexpr bool is_shape<shape<Dims...>> = true;

// Dimension i of S counted from the right, 1 where S has fewer dimensions.
template <class S>
constexpr std::size_t dim_from_right(std::size_t i) {
  return i < S::rank ? S::dims[S::rank - 1 - i] : 1;
}

template <class A, class B>
constexpr bool broadcastable() {
  constexpr std::size_t rank = A::rank > B::rank ? A::rank : B::rank;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t a = dim_from_right<A>(i), b = dim_from_right<B>(i);
    if (a != b && a != 1 && b != 1) return false;
  }
  return true;
}

template <class A, class B, class Seq>
struct broadcast_impl;
template <class A, class B, std::size_t... Is>
struct broadcast_impl<A, B, std::index_sequence<Is...>> {
  static constexpr std::size_t rank = sizeof...(Is);
  static constexpr std::size_t dim(std::size_t i) {  // i counted from the left
    const std::size_t a = dim_from_right<A>(rank - 1 - i), b = dim_from_right<B>(rank - 1 - i);
    return a == 1 ? b : a;
  }
  using type = shape<dim(Is)...>;
};

}  // namespace detail

// The shape of an elementwise result; only meaningful when broadcastable<A, B>().
template <class A, class B>
using broadcast_shape =
    typename detail::broadcast_impl<A, B,
                                    std::make_index_sequence<(A::rank > B::rank ? A::rank : B::rank)>>::type;

template <class A, class B>
inline constexpr bool shapes_broadcast = detail::broadcastable<A, B>();

}  // namespace tapeless
