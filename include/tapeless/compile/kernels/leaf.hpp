#pragma once
// Leaves: no kernel. A param or a buffer is read from the parameter store, an input from
// its binding, a constant from a register.

#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::detail {

// A binding's value as a pointer to its first element.
template <class V>
constexpr const auto* binding_data(const V& v) {
  if constexpr (std::is_arithmetic_v<V>)
    return &v;
  else
    return v.data();
}

struct parameter_family : kernel_family_defaults {
  // The store holds it: nothing to compute.
  static constexpr bool leaf = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    // Through the const path: a read does not change the store's version.
    return std::as_const(c.params).template get<Sched::template node_at<J>::name>().data();
  }
};

struct input_family : kernel_family_defaults {
  // The caller's binding holds it: nothing to compute.
  static constexpr bool leaf = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return binding_data(c.template bound<Sched::template node_at<J>::name>());
  }
};

struct constant_family : kernel_family_defaults {
  static constexpr bool leaf = true;
  // A number: broadcast into a register where a loop reads it, never stored.
  static constexpr bool in_register = true;
  template <class N, class T, class Ctx>
  static T constant_value(const Ctx& c) noexcept {
    if constexpr (is_exact<N>)
      return N::value.template as<T>();
    else if constexpr (is_math_constant<N>)
      return N::template as<T>();
    else
      return static_cast<T>(c.constants[N::slot]);
  }
};

template <fixed_string Name, class Element, class Shape, symbol_kind Kind>
struct kernel_family_of<symbol<Name, Element, Shape, Kind>> {
  // Params and buffers live in the store.
  using type = std::conditional_t<Kind == symbol_kind::parameter || Kind == symbol_kind::buffer, parameter_family,
                                  input_family>;
};
// Exact constants, tl::pi and the like, and labelled run-time constants.
template <class N>
  requires(is_exact<N> || is_math_constant<N> || is_slot<N>)
struct kernel_family_of<N> {
  using type = constant_family;
};

}  // namespace tapeless::detail
