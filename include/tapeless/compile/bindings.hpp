#pragma once
// The inputs a program is called with: expr/bindings.hpp's check (every input
// bound once, every argument a binding) in the program's words, then whether
// each value fits its input (element type; size, at compile time when the
// value's type says it, else at run time: see checked_binding_sizes).

#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/leaf.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/bindings.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::detail {

// Inputs and vars are bound by the caller; params and buffers come from the store.
template <class S>
struct is_bound_symbol : std::bool_constant<S::kind != symbol_kind::parameter && S::kind != symbol_kind::buffer> {};

template <class V>
struct binding_element {
  using type = std::remove_cv_t<std::remove_pointer_t<decltype(binding_data(std::declval<const V&>()))>>;
};

// Elements a bound value holds, when its type says (else dynamic_extent).
template <class V>
inline constexpr std::size_t binding_extent = [] {
  if constexpr (std::is_arithmetic_v<V>)
    return std::size_t{1};
  else if constexpr (any_tensor<V>)
    return V::size();
  else if constexpr (requires { V::extent; })
    return V::extent;
  else
    return std::dynamic_extent;
}();

template <class Symbol, class... Bindings>
constexpr bool binding_fits() {
  using B = std::tuple_element_t<binding_index<Symbol::name, Bindings...>, std::tuple<Bindings...>>;
  using V = typename B::value_type;
  using E = typename binding_element<V>::type;
  using Want = std::conditional_t<std::is_same_v<typename Symbol::element_type, deduced_element>, E,
                                  typename Symbol::element_type>;
  constexpr std::size_t extent = binding_extent<V>;
  if constexpr (std::is_same_v<E, Want> && (extent == Symbol::shape_type::size || extent == std::dynamic_extent))
    return true;
  else
    return binding_does_not_fit_input<Symbol, V>::ok;
}

template <class Order>
struct bound_symbols_of;
template <class... Nodes>
struct bound_symbols_of<type_list<Nodes...>> {
  using type = decltype((gathered<>{} | ... | typename gathered_if_bound<is_bound_symbol, Nodes>::type{}));
};

// True when Bindings bind every input of Order, each with a value that fits;
// else false after one static_assert naming the input.
template <class Order, class... Bindings>
constexpr bool check_program_bindings() {
  if constexpr (!binding_check<program_diagnostics, Order, is_bound_symbol>::template ok<Bindings...>())
    return false;
  else
    return []<class... Symbols>(gathered<Symbols...>) {
      return (binding_fits<Symbols, Bindings...>() && ...);
    }(typename bound_symbols_of<Order>::type{});
}

// The run-time half of the size check: values whose type does not fix their
// size (std::span<const T>) must hold exactly the input's elements.
template <class Symbols>
struct checked_binding_sizes;
template <class... Symbols>
struct checked_binding_sizes<gathered<Symbols...>> {
  template <class Ctx>
  static run_error check(const Ctx& c) noexcept {
    run_error error{};
    (void)((check_one<Symbols>(c, error)) && ...);
    return error;
  }
  template <class Symbol, class Ctx>
  static bool check_one(const Ctx& c, run_error& error) noexcept {
    const auto& value = c.template bound<Symbol::name>();
    using V = std::remove_cvref_t<decltype(value)>;
    if constexpr (binding_extent<V> == std::dynamic_extent) {
      if (value.size() != Symbol::shape_type::size) {
        error = {run_error::kind::binding_size, Symbol::name.view(), 0, static_cast<long long>(value.size()),
                 Symbol::shape_type::size};
        return false;
      }
    }
    return true;
  }
};

}  // namespace tapeless::detail
