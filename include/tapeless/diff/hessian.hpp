#pragma once
// tl::hessian(f, x, y, ...): f, its gradient and its matrix of second
// partials from one evaluation pass over their shared graph. The first
// partials come from one reverse pass; each second partial d2f/dxi dxj is
// derived once, for i <= j, and read for both (i, j) and (j, i).
//
//   const auto h = tl::hessian(f, x, y);
//   const auto v = h(x = 0.5, y = 2.0);   // v.value, v[x], v(x, y)
//   const auto fxy = h.at(x, y);          // d2f/dxdy as an expression

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/diff/grad.hpp>
#include <tapeless/expr/evaluate.hpp>

namespace tapeless {

namespace detail {

// Pair k of the upper triangle of an n x n matrix, row by row: (0,0), (0,1), ...
struct matrix_index {
  std::size_t row, col;
};
constexpr matrix_index upper_triangle_pair(std::size_t k, std::size_t n) {
  std::size_t row = 0;
  while (k >= n - row) {
    k -= n - row;
    ++row;
  }
  return {row, row + k};
}
// Position in the upper triangle of (i, j), in either order.
constexpr std::size_t upper_triangle_index(std::size_t i, std::size_t j, std::size_t n) {
  if (i > j) std::swap(i, j);
  return i * n - i * (i - 1) / 2 + (j - i);
}

template <class X, class Symbols>
struct not_a_variable_of_this_hessian {
  static_assert(always_false<X, Symbols>,
                "tapeless::hessian: this Hessian was not taken with respect to the symbol given "
                "to operator[], operator() or at(); pass it to tl::hessian (see the template "
                "arguments above)");
  static constexpr std::size_t index = 0;
};

template <class X, class... Symbols>
constexpr std::size_t hessian_index() {
  if constexpr (contains<X, type_list<Symbols...>>)
    return index_of_v<X, type_list<Symbols...>>;
  else
    return not_a_variable_of_this_hessian<X, type_list<Symbols...>>::index;
}

}  // namespace detail

// f, its gradient and its Hessian at one point.
template <class V, class... Symbols>
struct hessian_values {
  static constexpr std::size_t n = sizeof...(Symbols);
  V value{};
  std::array<V, n> gradient{};
  std::array<V, n * n> matrix{};  // row-major, both halves filled

  template <symbolic X>
  constexpr V operator[](const X&) const {
    return gradient[detail::hessian_index<X, Symbols...>()];
  }
  template <symbolic X, symbolic Y>
  constexpr V operator()(const X&, const Y&) const {
    return matrix[detail::hessian_index<X, Symbols...>() * n + detail::hessian_index<Y, Symbols...>()];
  }
};

template <class Structure, class Table, class SymbolList, class FirstList, class SecondList>
struct hessian_of;

template <class Structure, class Table, class... Symbols, class... Firsts, class... Seconds>
struct hessian_of<Structure, Table, detail::type_list<Symbols...>, detail::type_list<Firsts...>,
                  detail::type_list<Seconds...>> {
  Table constants{};
  static constexpr std::size_t n = sizeof...(Symbols);

  // d2f/dxdy as an expression (the same type for (x, y) and (y, x)).
  template <symbolic X, symbolic Y>
  constexpr auto at(const X&, const Y&) const {
    constexpr std::size_t k = detail::upper_triangle_index(detail::hessian_index<X, Symbols...>(),
                                                           detail::hessian_index<Y, Symbols...>(), n);
    return tapeless::keep_labelled<std::tuple_element_t<k, std::tuple<Seconds...>>>(constants);
  }

  template <class... Bindings>
  constexpr auto operator()(const Bindings&... bindings) const {
    using V = evaluation_type<Bindings...>;
    hessian_values<V, Symbols...> result{};
    if constexpr (check_evaluation<detail::type_list<Structure, Firsts..., Seconds...>, Bindings...>()) {
      const auto values =
          tapeless::evaluate_structures<V, Structure, Firsts..., Seconds...>(constants, bindings...);
      result.value = values[0];
      for (std::size_t i = 0; i < n; ++i) result.gradient[i] = values[1 + i];
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
          result.matrix[i * n + j] = values[1 + n + detail::upper_triangle_index(i, j, n)];
    }
    return result;
  }
};

template <class F, class... Xs>
constexpr auto hessian(const F& f, const Xs&...) {
  if constexpr (detail::check_function<F>() && (detail::check_variable<Xs>() && ...) &&
                detail::check_sharing<F>()) {
    const auto labelled_f = tapeless::label(f);
    using S = simplified_t<typename decltype(labelled_f)::structure>;
    if constexpr (detail::check_graph_size<S>()) {
      using firsts = std::tuple<detail::derivative_t<S, Xs>...>;
      using symbols = std::tuple<Xs...>;
      constexpr std::size_t n = sizeof...(Xs);
      return [&]<std::size_t... K>(std::index_sequence<K...>) {
        using result = hessian_of<
            S, decltype(labelled_f.constants), detail::type_list<Xs...>,
            detail::type_list<detail::derivative_t<S, Xs>...>,
            detail::type_list<detail::derivative_t<
                simplified_t<std::tuple_element_t<detail::upper_triangle_pair(K, n).row, firsts>>,
                std::tuple_element_t<detail::upper_triangle_pair(K, n).col, symbols>>...>>;
        return result{labelled_f.constants};
      }(std::make_index_sequence<n * (n + 1) / 2>{});
    }
  }
}

}  // namespace tapeless
