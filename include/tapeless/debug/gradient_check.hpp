#pragma once
// Finite-difference checks of compiled derivatives. The numerical derivative
// is the five-point central difference, whose error is O(h^4): with
// h = eps^(1/5) * max(1, |x|) it is accurate to about 1e-11 relative in double.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include <tapeless/diff/grad.hpp>
#include <tapeless/expr/evaluate.hpp>

namespace tapeless {

namespace detail {

// The binding B with delta added when it binds Name; B unchanged otherwise.
template <fixed_string Name, class B, class V>
constexpr auto shifted(const B& b, V delta) {
  if constexpr (B::name == Name)
    return binding<Name, V>{static_cast<V>(b.value) + delta};
  else
    return b;
}

template <fixed_string Name, class... Bindings>
constexpr auto bound_value(const Bindings&... bindings) {
  return find_binding<Name>(bindings...).value;
}

}  // namespace detail

// d f / d x at the point given by the bindings, by finite differences.
template <expression F, symbolic X, class... Bindings>
evaluation_type<Bindings...> finite_difference(const F& f, const X&, const Bindings&... point) {
  using V = evaluation_type<Bindings...>;
  const V x0 = static_cast<V>(detail::bound_value<X::name>(point...));
  const V h = std::pow(std::numeric_limits<V>::epsilon(), V(0.2)) * std::max(V(1), std::abs(x0));
  const auto at = [&](V delta) { return static_cast<V>(evaluate(f, detail::shifted<X::name>(point, delta)...)); };
  return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h);
}

// How far a gradient is from its finite-difference estimate.
struct gradient_check_result {
  double max_abs_error = 0;  // largest |analytic - numeric|
  double max_rel_error = 0;  // largest |analytic - numeric| / max(1, |analytic|, |numeric|)
  std::size_t worst = 0;     // index (in the order given) of the symbol with the largest relative error

  constexpr bool passed(double tolerance) const { return max_rel_error <= tolerance; }
};

template <symbolic... Xs>
struct with_respect_to_t {};

// tl::with_respect_to(x, y): the symbols a gradient check differentiates by.
template <symbolic... Xs>
constexpr with_respect_to_t<Xs...> with_respect_to(const Xs&...) {
  return {};
}

// Compares tl::grad(f, xs...) at a point with finite differences:
// check_gradient(f, with_respect_to(x, y), x = 0.5, y = 2.0).passed(1e-8)
template <expression F, symbolic... Xs, class... Bindings>
gradient_check_result check_gradient(const F& f, with_respect_to_t<Xs...>,
                                     const Bindings&... point) {
  const auto analytic = grad(f, Xs{}...)(point...);
  const std::array<double, sizeof...(Xs)> numeric{
      static_cast<double>(finite_difference(f, Xs{}, point...))...};
  gradient_check_result result;
  for (std::size_t i = 0; i < sizeof...(Xs); ++i) {
    const double a = static_cast<double>(analytic.partials[i]), n = numeric[i];
    const double error = std::abs(a - n);
    const double relative = error / std::max({1.0, std::abs(a), std::abs(n)});
    result.max_abs_error = std::max(result.max_abs_error, error);
    const bool one_is_nan = std::isnan(a) != std::isnan(n);
    const double score = one_is_nan ? std::numeric_limits<double>::infinity() : relative;
    if (score > result.max_rel_error) {
      result.max_rel_error = score;
      result.worst = i;
    }
  }
  return result;
}

}  // namespace tapeless
