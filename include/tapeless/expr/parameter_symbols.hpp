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
constexpr bool is_parameter_symbol = false;
template <fixed_string Name, class T, class Shape>
constexpr bool is_parameter_symbol<symbol<Name, T, Shape, symbol_kind::parameter>> = true;

// A symbol the parameter store holds: a param or a buffer.
template <class Node>
constexpr bool is_stored_symbol = false;
template <fixed_string Name, class T, class Shape, symbol_kind Kind>
constexpr bool is_stored_symbol<symbol<Name, T, Shape, Kind>> =
    Kind == symbol_kind::parameter || Kind == symbol_kind::buffer;

template <class A, class B>
struct two_params_share_a_name {
  static_assert(always_false<A, B>,
                "tapeless::parameters_of: two different param or buffer symbols have the same name "
                "(see both above); a name must mean one kind, one element type and one shape");
  static constexpr bool ok = false;
};

// Parameter symbols among Nodes (and buffers when WithBuffers: what a store
// holds), in graph order, each checked against the ones before it for a
// name clash.
template <class Found, class Nodes, bool WithBuffers = false>
struct collect_parameters;
template <class Found, bool WithBuffers>
struct collect_parameters<Found, type_list<>, WithBuffers> {
  using type = Found;
};
// Whether First, collected, does not clash with Found (else an error).
// Classes over bool_constant, not static members: a static member here
// would be a symbol whose name spells the rest of the graph, mangled by g++
// at every step of the walk (core/type_list.hpp).
template <class First, class FoundList, bool Collected>
struct name_is_free : std::true_type {};
struct no_name_clash {
  static constexpr bool ok = true;
};
template <class First, class... Found>
struct name_is_free<First, type_list<Found...>, true>
    : std::bool_constant<std::conditional_t<((Found::name == First::name) || ...),
                                            two_params_share_a_name<First, type_list<Found...>>, no_name_clash>::ok> {};
template <class... Found, class First, class... Rest, bool WithBuffers>
struct collect_parameters<type_list<Found...>, type_list<First, Rest...>, WithBuffers> {
  using collected = std::bool_constant<WithBuffers ? is_stored_symbol<First> : is_parameter_symbol<First>>;
  using next = std::conditional_t<collected::value && name_is_free<First, type_list<Found...>, collected::value>::value,
                                  type_list<Found..., First>, type_list<Found...>>;
  using type = typename collect_parameters<next, type_list<Rest...>, WithBuffers>::type;
};

// The param symbols of expressions Exprs, as a type_list.
template <class... Exprs>
using parameter_symbols_t = typename collect_parameters<
    type_list<>, topological_order<typename labelling<0, std::remove_cvref_t<Exprs>>::type...>>::type;

}  // namespace tapeless::detail
