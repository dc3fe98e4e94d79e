#pragma once
// Picking one element per row by integer class labels, and its transpose,
// the one-hot encoding.
//
//   tl::gather(Z, Y)        // Z [B, C] values, Y [B] integer labels -> [B]: Z(b, Y(b))
//   tl::one_hot<C>(Y)       // [B, C]: 1 where c == Y(b), else 0
//
// A label outside [0, C) reads as a row of zeros in one_hot; gather checks
// labels with an assertion in debug builds.

#include <concepts>
#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

template <std::size_t B, std::size_t C>
struct gather_op {
  static constexpr std::string_view name = "gather";
  template <class A, class L>
  struct result_shape {
    using type = shape<B>;
  };
};

template <std::size_t B, std::size_t C>
struct one_hot_op {
  static constexpr std::string_view name = "one_hot";
  template <class L>
  struct result_shape {
    using type = shape<B, C>;
  };
};

namespace detail {

template <class E>
struct element_of_leaf {
  using type = void;
};
template <fixed_string Name, class T, class Shape, symbol_kind Kind>
struct element_of_leaf<symbol<Name, T, Shape, Kind>> {
  using type = T;
};

template <class Values, class Labels>
struct gather_needs_values_b_c_and_integer_labels_b {
  static_assert(always_false<Values, Labels>,
                "tapeless::gather / cross_entropy: expected values of shape [B, C] and an "
                "integer input of labels of shape [B]; see the shapes and the labels' type "
                "above");
  static constexpr bool ok = false;
};

template <class V, class L>
constexpr bool check_gather() {
  using SV = shape_of<V>;
  using SL = shape_of<L>;
  if constexpr (SV::rank == 2 && SL::rank == 1 && std::integral<typename element_of_leaf<L>::type>) {
    if constexpr (SV::dims[0] == SL::dims[0])
      return true;
    else
      return gather_needs_values_b_c_and_integer_labels_b<V, L>::ok;
  } else
    return gather_needs_values_b_c_and_integer_labels_b<V, L>::ok;
}

}  // namespace detail

template <expression V, expression L>
constexpr auto gather(const V& values, const L& labels) {
  if constexpr (detail::check_gather<V, L>())
    return node<gather_op<shape_of<V>::dims[0], shape_of<V>::dims[1]>, V, L>{values, labels};
}

template <std::size_t C, expression L>
constexpr auto one_hot(const L& labels) {
  static_assert(shape_of<L>::rank == 1 && std::integral<typename detail::element_of_leaf<L>::type>,
                "tapeless::one_hot<C>(labels): labels must be an integer input of shape [B]");
  return node<one_hot_op<shape_of<L>::dims[0], C>, L>{labels};
}

}  // namespace tapeless
