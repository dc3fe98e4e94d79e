#pragma once
// Vector-Jacobian products of the elementwise functions of one argument.
// Where the derivative is a function of the result (exp, tanh, sigmoid, tan),
// the rule reuses the node itself, so the forward value is not recomputed.

#include <tapeless/diff/rules/rule.hpp>

namespace tapeless::detail {

inline constexpr exact<rational{1, 1}> exact_one{};
inline constexpr exact<rational{2, 1}> exact_two{};

// d exp(a) = exp(a) da
template <>
struct vjp_rule<exp_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<exp_op, A> self, G g) {
    return detail::make_mul(self, g);
  }
};

// d log(a) = da / a
template <>
struct vjp_rule<log_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<log_op, A>, G g) {
    return detail::make_div(g, A{});
  }
};

// d sin(a) = cos(a) da
template <>
struct vjp_rule<sin_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<sin_op, A>, G g) {
    return detail::make_mul(detail::make_function<cos_op>(A{}), g);
  }
};

// d cos(a) = -sin(a) da
template <>
struct vjp_rule<cos_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<cos_op, A>, G g) {
    return detail::make_neg(detail::make_mul(detail::make_function<sin_op>(A{}), g));
  }
};

// d tan(a) = (tan(a)^2 + 1) da
template <>
struct vjp_rule<tan_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<tan_op, A> self, G g) {
    return detail::make_mul(detail::make_add(detail::make_pow(self, exact_two), exact_one), g);
  }
};

// d tanh(a) = (1 - tanh(a)^2) da
template <>
struct vjp_rule<tanh_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<tanh_op, A> self, G g) {
    return detail::make_mul(detail::make_sub(exact_one, detail::make_pow(self, exact_two)), g);
  }
};

// d sigmoid(a) = sigmoid(a) (1 - sigmoid(a)) da
template <>
struct vjp_rule<sigmoid_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<sigmoid_op, A> self, G g) {
    return detail::make_mul(detail::make_mul(self, detail::make_sub(exact_one, self)), g);
  }
};

// d relu(a) = step(relu(a)) da   (0 at a = 0, as PyTorch). step(relu(a)) is
// step(a); reading relu(a) lets a compiled program keep only the activation,
// so the pre-activation a fuses into the layer's GEMM epilogue.
template <>
struct vjp_rule<relu_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<relu_op, A> self, G g) {
    return detail::make_mul(detail::make_function<step_op>(self), g);
  }
};

// d sqrt(a) = da / (2 sqrt(a))
template <>
struct vjp_rule<sqrt_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<sqrt_op, A> self, G g) {
    return detail::make_div(g, detail::make_mul(exact_two, self));
  }
};

// d |a| = sign(a) da
template <>
struct vjp_rule<abs_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<abs_op, A>, G g) {
    return detail::make_mul(detail::make_function<sign_op>(A{}), g);
  }
};

// d a^2 = 2 a da
template <>
struct vjp_rule<square_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<square_op, A>, G g) {
    return detail::make_mul(detail::make_mul(exact_two, A{}), g);
  }
};

// d atan(a) = da / (1 + a^2)
template <>
struct vjp_rule<atan_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<atan_op, A>, G g) {
    return detail::make_div(g, detail::make_add(exact_one, detail::make_pow(A{}, exact_two)));
  }
};

// d asin(a) = da / sqrt(1 - a^2)
template <>
struct vjp_rule<asin_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<asin_op, A>, G g) {
    return detail::make_div(g, detail::make_function<sqrt_op>(detail::make_sub(exact_one, detail::make_pow(A{}, exact_two))));
  }
};

// d acos(a) = -da / sqrt(1 - a^2)
template <>
struct vjp_rule<acos_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<acos_op, A>, G g) {
    return detail::make_neg(
        detail::make_div(g, detail::make_function<sqrt_op>(detail::make_sub(exact_one, detail::make_pow(A{}, exact_two)))));
  }
};

// d sinh(a) = cosh(a) da
template <>
struct vjp_rule<sinh_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<sinh_op, A>, G g) {
    return detail::make_mul(detail::make_function<cosh_op>(A{}), g);
  }
};

// d cosh(a) = sinh(a) da
template <>
struct vjp_rule<cosh_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<cosh_op, A>, G g) {
    return detail::make_mul(detail::make_function<sinh_op>(A{}), g);
  }
};

// d asinh(a) = da / sqrt(a^2 + 1)
template <>
struct vjp_rule<asinh_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<asinh_op, A>, G g) {
    return detail::make_div(g, detail::make_function<sqrt_op>(detail::make_add(detail::make_pow(A{}, exact_two), exact_one)));
  }
};

// d log1p(a) = da / (1 + a)
template <>
struct vjp_rule<log1p_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<log1p_op, A>, G g) {
    return detail::make_div(g, detail::make_add(exact_one, A{}));
  }
};

// d expm1(a) = (expm1(a) + 1) da   (reads the node: exp(a) is not computed again)
template <>
struct vjp_rule<expm1_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<expm1_op, A> self, G g) {
    return detail::make_mul(detail::make_add(self, exact_one), g);
  }
};

// d cbrt(a) = da / (3 cbrt(a)^2)
template <>
struct vjp_rule<cbrt_op> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<cbrt_op, A> self, G g) {
    return detail::make_div(g, detail::make_mul(exact<rational{3, 1}>{}, detail::make_pow(self, exact_two)));
  }
};

// step, heaviside and sign are piecewise constant: their derivative is 0
// (almost everywhere; at the jump it is not defined, and 0 is what PyTorch uses).
template <class Op>
struct piecewise_constant_rule {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<Op, A>, G) {
    return exact<rational{0, 1}>{};
  }
};
template <>
struct vjp_rule<step_op> : piecewise_constant_rule<step_op> {};
template <>
struct vjp_rule<heaviside_op> : piecewise_constant_rule<heaviside_op> {};
template <>
struct vjp_rule<sign_op> : piecewise_constant_rule<sign_op> {};

}  // namespace tapeless::detail
