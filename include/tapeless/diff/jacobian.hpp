#pragma once
// tl::jacobian(std::tuple{f, g, ...}, x, y, ...): several functions and all
// their partials from one evaluation pass. The functions are labelled
// together, so what they share (a common subexpression, a constant) is
// computed once for all of them.
//
//   const auto j = tl::jacobian(std::tuple{f, g}, x, y);
//   const auto v = j(x = 0.5, y = 2.0);   // v.values[1], v(1, x): dg/dx
//   const auto gx = j.at<1>(x);           // dg/dx as an expression

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/d.hpp>
#include <tapeless/diff/hessian.hpp>
#include <tapeless/expr/evaluate.hpp>

namespace tapeless {

namespace detail {

// Several roots as the operands of one node, so that one labelling gives
// them one table; the node itself is never evaluated.
struct roots_op {
  template <class... Shapes>
  struct result_shape {
    using type = shape<>;
  };
};

template <class F>
struct jacobian_of_a_tuple_of_expressions {
  static_assert(always_false<F>,
                "tapeless::jacobian: the first argument is a std::tuple of tapeless expressions, "
                "e.g. tl::jacobian(std::tuple{f, g}, x, y); see the type above");
  static constexpr bool ok = false;
};

template <class F>
struct tuple_of_expressions_test {
  enum : bool { value = false };
};
template <class... Fs>
struct tuple_of_expressions_test<std::tuple<Fs...>> {
  enum : bool { value = (expression<Fs> && ...) };
};

template <class F>
constexpr bool check_function_tuple() {
  if constexpr (bool(tuple_of_expressions_test<F>::value))
    return true;
  else
    return jacobian_of_a_tuple_of_expressions<F>::ok;
}

// The partials of one function, in the order of the symbols.
template <class S, class... Xs>
using jacobian_row = gathered<derivative_t<S, Xs>...>;

}  // namespace detail

// The functions and their partials at one point.
template <class V, std::size_t Rows, class... Symbols>
struct jacobian_values {
  static constexpr std::size_t cols = sizeof...(Symbols);
  std::array<V, Rows> values{};
  std::array<V, Rows * cols> partials{};  // row-major: d f_row / d symbol

  template <symbolic X>
  constexpr V operator()(std::size_t row, const X&) const {
    return partials[row * cols + detail::hessian_index<X, Symbols...>()];
  }
};

template <class Table, class RootList, class SymbolList, class PartialList>
struct jacobian_of;

template <class Table, class... Roots, class... Symbols, class... Partials>
struct jacobian_of<Table, detail::type_list<Roots...>, detail::type_list<Symbols...>,
                   detail::type_list<Partials...>> {
  Table constants{};
  static constexpr std::size_t rows = sizeof...(Roots), cols = sizeof...(Symbols);

  // d f_Row / dx as an expression.
  template <std::size_t Row, symbolic X>
  constexpr auto at(const X&) const {
    static_assert(Row < rows, "tapeless::jacobian: at<Row>: Row is past the last function");
    constexpr std::size_t k = Row * cols + detail::hessian_index<X, Symbols...>();
    return tapeless::keep_labelled<std::tuple_element_t<k, std::tuple<Partials...>>>(constants);
  }

  template <class... Bindings>
  constexpr auto operator()(const Bindings&... bindings) const {
    using V = evaluation_type<Bindings...>;
    jacobian_values<V, rows, Symbols...> result{};
    if constexpr (check_evaluation<detail::type_list<Roots..., Partials...>, Bindings...>()) {
      const auto values = tapeless::evaluate_structures<V, Roots..., Partials...>(constants, bindings...);
      for (std::size_t i = 0; i < rows; ++i) result.values[i] = values[i];
      for (std::size_t k = 0; k < rows * cols; ++k) result.partials[k] = values[rows + k];
    }
    return result;
  }
};

template <class F, class... Xs>
constexpr auto jacobian(const F& functions, const Xs&...) {
  if constexpr (detail::check_function_tuple<F>() && (detail::check_variable<Xs>() && ...)) {
    return std::apply(
        [](const auto&... fs) {
          const auto labelled = tapeless::label(node<detail::roots_op, std::remove_cvref_t<decltype(fs)>...>{fs...});
          using all = typename decltype(labelled)::structure;
          return [&]<class... Ss>(std::type_identity<node<detail::roots_op, Ss...>>) {
            using partials =
                decltype((detail::gathered<>{} | ... | detail::jacobian_row<simplified_t<Ss>, Xs...>{}));
            return [&]<class... Ps>(detail::gathered<Ps...>) {
              return jacobian_of<decltype(labelled.constants), detail::type_list<simplified_t<Ss>...>,
                                 detail::type_list<Xs...>, detail::type_list<Ps...>>{labelled.constants};
            }(partials{});
          }(std::type_identity<all>{});
        },
        functions);
  }
}

}  // namespace tapeless
