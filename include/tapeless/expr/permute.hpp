#pragma once
// Axes in another order, as torch.permute: result axis i is operand axis
// Axes[i].
//
//   tl::permute<0, 2, 1, 3>(X)   // X [N, T, H, D] -> [N, H, T, D]
//
// A compiled program copies the elements into the new order (runs of the
// last axis when it stays last); the derivative is the inverse permutation.

#include <array>
#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// An In-shaped operand with its axes in the order Axes...
template <class In, std::size_t... Axes>
struct permute_op {
  static constexpr std::string_view name = "permute";
  using input_shape = In;
  static constexpr std::array<std::size_t, sizeof...(Axes)> axes{Axes...};
  template <class A>
  struct result_shape {
    using type = shape<In::dims[Axes]...>;
  };
};

namespace detail {

template <class S, std::size_t... Axes>
struct permute_needs_a_permutation_of_the_axes {
  static_assert(always_false<S>,
                "tapeless::permute<axes...>: give every axis of the operand exactly once (as many axes as "
                "its rank, each in [0, rank)); the operand's shape is above");
  static constexpr bool ok = false;
};

template <std::size_t Rank, std::size_t... Axes>
constexpr bool is_permutation_of_axes() {
  if constexpr (sizeof...(Axes) != Rank) {
    return false;
  } else {
    std::array<bool, Rank + 1> seen{};
    for (std::size_t a : {Axes...}) {
      if (a >= Rank || seen[a]) return false;
      seen[a] = true;
    }
    return true;
  }
}

template <std::size_t... Axes>
constexpr bool is_identity_order() {
  std::size_t i = 0;
  return ((Axes == i++) && ...);
}

// The order that undoes Axes: inverse[Axes[i]] = i.
template <std::size_t... Axes>
constexpr std::array<std::size_t, sizeof...(Axes)> inverse_order() {
  constexpr std::array<std::size_t, sizeof...(Axes)> axes{Axes...};
  std::array<std::size_t, sizeof...(Axes)> inverse{};
  for (std::size_t i = 0; i < axes.size(); ++i) inverse[axes[i]] = i;
  return inverse;
}

template <class E>
inline constexpr bool is_permute = false;
template <class In, std::size_t... Axes, class A>
inline constexpr bool is_permute<node<permute_op<In, Axes...>, A>> = true;

}  // namespace detail

// permute<identity>(a) -> a
template <std::size_t... Axes, expression A>
constexpr auto permute(const A& a) {
  using S = shape_of<A>;
  if constexpr (!detail::is_permutation_of_axes<S::rank, Axes...>())
    return detail::permute_needs_a_permutation_of_the_axes<S, Axes...>::ok;
  else if constexpr (detail::is_identity_order<Axes...>())
    return a;
  else
    return node<permute_op<S, Axes...>, A>{a};
}

}  // namespace tapeless
