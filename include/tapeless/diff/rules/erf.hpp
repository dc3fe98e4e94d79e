#pragma once
// Vector-Jacobian products of erf, erfc and the normal CDF: Gaussians with
// exact constants (2/sqrt(pi), 1/sqrt(2 pi)), so nothing is a run-time number.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/erf.hpp>
#include <tapeless/expr/math_constant.hpp>

namespace tapeless::detail {

// exp(-a^2) and exp(-a^2/2)
template <class A>
constexpr auto gaussian_of(A a) {
  return detail::make_function<exp_op>(detail::make_neg(detail::make_pow(a, exact<rational{2, 1}>{})));
}
template <class A>
constexpr auto half_gaussian_of(A a) {
  return detail::make_function<exp_op>(detail::make_mul(exact<rational{-1, 2}>{}, detail::make_pow(a, exact<rational{2, 1}>{})));
}

// d erf(a) = 2/sqrt(pi) exp(-a^2) da
template <>
struct vjp_rule<erf_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<erf_op, A>, G g) {
    return detail::make_mul(detail::make_mul(math_constant<constant_tags::two_over_sqrt_pi>{}, gaussian_of(A{})), g);
  }
};

// d erfc(a) = -2/sqrt(pi) exp(-a^2) da
template <>
struct vjp_rule<erfc_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<erfc_op, A>, G g) {
    return detail::make_neg(
        detail::make_mul(detail::make_mul(math_constant<constant_tags::two_over_sqrt_pi>{}, gaussian_of(A{})), g));
  }
};

// d normal_cdf(a) = exp(-a^2/2)/sqrt(2 pi) da   (the normal density)
template <>
struct vjp_rule<normal_cdf_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<normal_cdf_op, A>, G g) {
    return detail::make_mul(
        detail::make_mul(math_constant<constant_tags::one_over_sqrt_two_pi>{}, half_gaussian_of(A{})), g);
  }
};

}  // namespace tapeless::detail
