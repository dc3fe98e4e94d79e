#pragma once
// Symbols: the named leaves of an expression. `var` is a scalar whose element
// type is that of the value bound to it; `input` and `param` are tensors of a
// fixed element type and shape (data, trainable parameters, and buffers:
// non-trainable state kept with the parameters).

#include <cstddef>
#include <span>
#include <type_traits>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

// buffer: state kept in the parameter store beside the parameters (batch
// norm's running statistics), saved and loaded with them, but neither
// differentiated nor updated by optimizers.
enum class symbol_kind { variable, input, parameter, buffer };

// Element type of a `var`: whatever type the value bound to it has.
struct deduced_element {};

// A value bound to the symbol called Name, as in `x = 0.5`. Arithmetic values
// are held by copy; anything larger (a tensor) by reference, so binding never
// copies data.
template <fixed_string Name, class V>
struct binding {
  static constexpr fixed_string name = Name;
  using value_type = V;
  std::conditional_t<std::is_arithmetic_v<V>, V, const V&> value;
};

// A std::span is a view already: held by copy (a pointer, and a size when
// dynamic), so a compiled step receives the data's address in a register
// rather than through two loads from its caller's stack (batch-1 latency).
template <fixed_string Name, class E, std::size_t Extent>
struct binding<Name, std::span<E, Extent>> {
  static constexpr fixed_string name = Name;
  using value_type = std::span<E, Extent>;
  value_type value;
};

template <fixed_string Name, class Element, class Shape, symbol_kind Kind>
struct symbol : expression_interface<symbol<Name, Element, Shape, Kind>> {
  static constexpr fixed_string name = Name;
  static constexpr symbol_kind kind = Kind;
  using element_type = Element;
  using shape_type = Shape;

  // `x = 0.5` makes a binding; it does not assign (symbols are constants).
  template <class V>
  constexpr binding<Name, std::remove_cvref_t<V>> operator=(const V& value) const {
    return {value};
  }
};

template <fixed_string Name>
inline constexpr symbol<Name, deduced_element, shape<>, symbol_kind::variable> var{};

template <fixed_string Name, class Element, std::size_t... Dims>
inline constexpr symbol<Name, Element, shape<Dims...>, symbol_kind::input> input{};

template <fixed_string Name, class Element, std::size_t... Dims>
inline constexpr symbol<Name, Element, shape<Dims...>, symbol_kind::parameter> param{};

template <fixed_string Name, class Element, std::size_t... Dims>
inline constexpr symbol<Name, Element, shape<Dims...>, symbol_kind::buffer> buffer{};

namespace detail {

template <class E>
constexpr bool is_symbol = false;
template <fixed_string Name, class Element, class Shape, symbol_kind Kind>
constexpr bool is_symbol<symbol<Name, Element, Shape, Kind>> = true;

template <class B>
inline constexpr bool is_binding = false;
template <fixed_string Name, class V>
inline constexpr bool is_binding<binding<Name, V>> = true;

}  // namespace detail

template <class T>
concept symbolic = detail::is_symbol<std::remove_cvref_t<T>>;

}  // namespace tapeless
