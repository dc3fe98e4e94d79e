#pragma once
// tl::grad(f, x, y, ...): every partial derivative from one reverse pass. The
// result keeps the labelled form, so evaluating it computes f and all of its
// partials in a single pass that shares their common subexpressions.

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/expr/evaluate.hpp>

namespace tapeless {

namespace detail {

template <class X, class Symbols>
struct not_a_variable_of_this_gradient {
  static_assert(always_false<X, Symbols>,
                "tapeless::grad: this gradient was not taken with respect to the symbol "
                "given to operator[]; pass it to tl::grad (see the template arguments above)");
  static constexpr bool ok = false;
};

}  // namespace detail

// f and its partials with respect to Symbols, evaluated at one point.
template <class V, class... Symbols>
struct gradient_values {
  V value{};
  std::array<V, sizeof...(Symbols)> partials{};

  template <symbolic X>
  constexpr V operator[](const X&) const {
    if constexpr (detail::contains<X, detail::type_list<Symbols...>>)
      return partials[detail::index_of_v<X, detail::type_list<Symbols...>>];
    else
      return static_cast<V>(detail::not_a_variable_of_this_gradient<X, detail::type_list<Symbols...>>::ok);
  }
};

template <class Structure, class Table, class SymbolList, class PartialList>
struct gradient;

template <class Structure, class Table, class... Symbols, class... Partials>
struct gradient<Structure, Table, detail::type_list<Symbols...>, detail::type_list<Partials...>> {
  Table constants{};

  static constexpr std::size_t size = sizeof...(Symbols);

  // The partial derivative with respect to x, as an expression: g[x].
  template <symbolic X>
  constexpr auto operator[](const X&) const {
    if constexpr (detail::contains<X, detail::type_list<Symbols...>>) {
      constexpr std::size_t i = detail::index_of_v<X, detail::type_list<Symbols...>>;
      using partial = std::tuple_element_t<i, std::tuple<Partials...>>;
      return tapeless::keep_labelled<partial>(constants);
    } else
      return detail::not_a_variable_of_this_gradient<X, detail::type_list<Symbols...>>::ok;
  }

  // The differentiated function itself, simplified.
  constexpr auto function() const { return tapeless::keep_labelled<Structure>(constants); }

  // f and every partial at one point, in one pass: g(x = 0.5, y = 2.0).
  template <class... Bindings>
  constexpr auto operator()(const Bindings&... bindings) const {
    using V = evaluation_type<Bindings...>;
    using result = gradient_values<V, Symbols...>;
    if constexpr (check_evaluation<detail::type_list<Structure, Partials...>, Bindings...>()) {
      // Built from the values in place: zeroing it first and copying in was a
      // second write of every partial.
      const auto values = tapeless::evaluate_structures<V, Structure, Partials...>(constants, bindings...);
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return result{values[0], {values[I + 1]...}};
      }(std::index_sequence_for<Symbols...>{});
    } else
      return result{};
  }
};

template <class F, class... Xs>
constexpr auto grad(const F& f, const Xs&...) {
  if constexpr (detail::check_function<F>() && (detail::check_variable<Xs>() && ...) &&
                detail::check_sharing<F>()) {
    const auto labelled_f = tapeless::label(f);
    using S = simplified_t<typename decltype(labelled_f)::structure>;
    if constexpr (detail::check_graph_size<S>())
      return gradient<S, decltype(labelled_f.constants), detail::type_list<Xs...>,
                      detail::type_list<detail::derivative_t<S, Xs>...>>{labelled_f.constants};
  }
}

}  // namespace tapeless
