#pragma once
// tl::d(f, x): the derivative of f with respect to the symbol x, derived at
// compile time and returned as an ordinary expression (so d nests: any order).

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/diff/reverse.hpp>
#include <tapeless/diff/rules/arithmetic.hpp>
#include <tapeless/diff/rules/atan2.hpp>
#include <tapeless/diff/rules/clamp.hpp>
#include <tapeless/diff/rules/compare.hpp>
#include <tapeless/diff/rules/elementary.hpp>
#include <tapeless/diff/rules/erf.hpp>
#include <tapeless/diff/rules/minmax.hpp>
#include <tapeless/diff/rules/pow.hpp>
#include <tapeless/diff/rules/where.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

template <class X>
struct differentiate_with_respect_to_a_symbol {
  static_assert(always_false<X>,
                "tapeless::d / tapeless::grad: the variable of differentiation must be a symbol "
                "(tl::var, tl::input or tl::param), not an expression or a number; this one "
                "is named in differentiate_with_respect_to_a_symbol<...> above");
  static constexpr bool ok = false;
};

template <class X>
constexpr bool check_variable() {
  if constexpr (is_symbol<std::remove_cvref_t<X>>)
    return true;
  else
    return differentiate_with_respect_to_a_symbol<std::remove_cvref_t<X>>::ok;
}

template <class F>
struct differentiate_an_expression {
  static_assert(always_false<F>,
                "tapeless::d / tapeless::grad: the first argument must be a tapeless "
                "expression; this one is named in differentiate_an_expression<...> above");
  static constexpr bool ok = false;
};

template <class F>
constexpr bool check_function() {
  if constexpr (expression<F>)
    return true;
  else
    return differentiate_an_expression<std::remove_cvref_t<F>>::ok;
}

}  // namespace detail

template <class F, class X>
constexpr auto d(const F& f, const X&) {
  if constexpr (detail::check_function<F>() && detail::check_variable<X>()) {
    const auto labelled_f = label(f);
    using S = simplified_t<typename decltype(labelled_f)::structure>;
    return unlabel<detail::derivative_t<S, X>>(labelled_f.constants);
  }
}

}  // namespace tapeless
