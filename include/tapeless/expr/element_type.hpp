#pragma once
// The floating element type an expression computes in: double when any of
// its symbols holds doubles, float otherwise (a graph of `var`s and constants
// alone takes the type of the values bound to it, and says float here).

#include <type_traits>

#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

template <class N>
constexpr bool holds_doubles = false;
template <fixed_string Name, class Shape, symbol_kind Kind>
constexpr bool holds_doubles<symbol<Name, double, Shape, Kind>> = true;

template <class List>
struct floating_element;
template <class... Ns>
struct floating_element<type_list<Ns...>> {
  using type = std::conditional_t<(holds_doubles<Ns> || ...), double, float>;
};

}  // namespace detail

// (Read from the labelled structure, which an expression tl::d returned
// keeps inside it.)
template <class E>
using floating_element_t = typename detail::floating_element<detail::topological_order<
    typename detail::labelling<0, std::remove_cvref_t<E>>::type>>::type;

}  // namespace tapeless
