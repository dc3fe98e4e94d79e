#pragma once
// The param symbols an expression reads, in the order its graph meets them,
// with a compile error when two different ones share a name.

#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::detail {

template <class Node>
inline constexpr bool is_parameter_symbol = false;
template <fixed_string Name, class T, class Shape>
inline constexpr bool is_parameter_symbol<symbol<Name, T, Shape, symbol_kind::parameter>> = true;

template <class A, class B>
struct two_params_share_a_name {
  static_assert(always_false<A, B>,
                "tapeless::parameters_of: two different param symbols have the same name (see "
                "both above); a name must mean one element type and one shape");
  static constexpr bool ok = false;
};

// Parameter symbols among Nodes, in graph order, each checked against the
// ones before it for a name clash.
template <class Found, class Nodes>
struct collect_parameters;
template <class Found>
struct collect_parameters<Found, type_list<>> {
  using type = Found;
};
template <class... Found, class First, class... Rest>
struct collect_parameters<type_list<Found...>, type_list<First, Rest...>> {
  static constexpr bool checked = [] {
    if constexpr (is_parameter_symbol<First>) {
      if constexpr (((Found::name == First::name) || ...))
        return two_params_share_a_name<First, type_list<Found...>>::ok;
    }
    return true;
  }();
  using next = std::conditional_t<checked && is_parameter_symbol<First>, type_list<Found..., First>,
                                  type_list<Found...>>;
  using type = typename collect_parameters<next, type_list<Rest...>>::type;
};

// The param symbols of expressions Exprs, as a type_list.
template <class... Exprs>
using parameter_symbols_t = typename collect_parameters<
    type_list<>, topological_order<typename labelling<0, std::remove_cvref_t<Exprs>>::type...>>::type;

}  // namespace tapeless::detail
