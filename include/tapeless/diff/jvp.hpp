#pragma once
// tl::jvp(f, x = vx, y = vy, ...): the directional derivative of f along the
// tangent (vx, vy, ...), as an expression: sum_i v_i df/dx_i from one pass.
// Forward mode by one scalar: each x_i is read as x_i + t v_i, f is
// differentiated by t alone (one reverse pass from one seed, as cheap as one
// forward tangent sweep), and t is set to 0, which the simplifier folds away.
// Tangents of symbols f does not read are allowed and contribute nothing.

#include <array>
#include <cstddef>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

// The direction parameter: a symbol no user can name (names hold no space).
using jvp_parameter = symbol<"jvp direction", deduced_element, shape<>, symbol_kind::variable>;

// E with every occurrence of From replaced by To.
template <class E, class From, class To>
struct replaced {
  using type = E;
};
template <class From, class To>
struct replaced<From, From, To> {
  using type = To;
};
template <class Op, class... Operands, class From, class To>
  requires(!std::is_same_v<node<Op, Operands...>, From>)
struct replaced<node<Op, Operands...>, From, To> {
  using type = node<Op, typename replaced<Operands, From, To>::type...>;
};

// The symbol of Order called Name, if any (gathered<> when f does not read it).
template <fixed_string Name, class Node>
struct if_named {
  using type = gathered<>;
};
template <fixed_string Name, fixed_string Own, class Element, class Shape, symbol_kind Kind>
  requires(Own == Name)
struct if_named<Name, symbol<Own, Element, Shape, Kind>> {
  using type = gathered<symbol<Own, Element, Shape, Kind>>;
};
template <fixed_string Name, class Order>
struct symbol_named;
template <fixed_string Name, class... Nodes>
struct symbol_named<Name, type_list<Nodes...>> {
  using type = decltype((gathered<>{} | ... | typename if_named<Name, Nodes>::type{}));
};

// S with the symbol called Name read as symbol + t * (the tangent in slot Slot).
template <class S, class Found, std::size_t Slot>
struct along_tangent {
  using type = S;
};
template <class S, class X, std::size_t Slot>
struct along_tangent<S, gathered<X>, Slot> {
  using type = typename replaced<
      S, X, node<add_op, X, node<mul_op, jvp_parameter, constant_slot<Slot, double>>>>::type;
};

template <class S, std::size_t Next, class... Tangents>
struct substituted_tangents {
  using type = S;
};
template <class S, std::size_t Next, class First, class... Rest>
struct substituted_tangents<S, Next, First, Rest...> {
  using type = typename substituted_tangents<
      typename along_tangent<S, typename symbol_named<First::name, topological_order<S>>::type,
                             Next>::type,
      Next + 1, Rest...>::type;
};

template <class T>
struct jvp_tangent_written_as_binding {
  static_assert(always_false<T>,
                "tapeless::jvp: tangents are written as bindings of numbers, e.g. "
                "tl::jvp(f, x = 1.0, y = 0.0); this argument is not one (see above)");
  static constexpr bool ok = false;
};

template <class T>
constexpr bool check_tangent() {
  if constexpr (is_binding<T>) {
    if constexpr (std::is_arithmetic_v<typename T::value_type>)
      return true;
    else
      return jvp_tangent_written_as_binding<T>::ok;
  } else
    return jvp_tangent_written_as_binding<T>::ok;
}

}  // namespace detail

template <class F, class... Tangents>
constexpr auto jvp(const F& f, const Tangents&... tangents) {
  if constexpr (detail::check_function<F>() && (detail::check_tangent<Tangents>() && ...) &&
                detail::check_sharing<F>()) {
    const auto labelled_f = tapeless::label(f);
    constexpr std::size_t count = decltype(labelled_f.constants){}.size();
    using S = simplified_t<typename decltype(labelled_f)::structure>;
    using moved = typename detail::substituted_tangents<S, count, Tangents...>::type;
    using derivative = detail::derivative_t<simplified_t<moved>, detail::jvp_parameter>;
    using at_zero = simplified_t<typename detail::replaced<derivative, detail::jvp_parameter,
                                                           exact_constant<rational{0, 1}>>::type>;
    std::array<double, count + sizeof...(Tangents)> table{};
    for (std::size_t i = 0; i < count; ++i) table[i] = labelled_f.constants[i];
    std::size_t next = count;
    ((table[next++] = static_cast<double>(tangents.value)), ...);
    return tapeless::keep_labelled<at_zero>(table);
  }
}

}  // namespace tapeless
