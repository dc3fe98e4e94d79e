#pragma once
// The simplifier: smart constructors that apply cheap algebraic rewrites while
// building a node. One overload per rule, with the rule in its comment; rules
// that could both match are ordered by priority (higher first).
//
// Rules hold for real numbers, as in computer algebra: 0*a -> 0 even though
// 0*inf is NaN in floating point.

#include <tapeless/diff/simplify/rule.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/erf.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/pow.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/slice.hpp>

namespace tapeless::detail {

template <class A>
constexpr auto make_neg(A a);
template <class A, class B>
constexpr auto make_add(A a, B b);
template <class A, class B>
constexpr auto make_sub(A a, B b);
template <class A, class B>
constexpr auto make_mul(A a, B b);
template <class A, class B>
constexpr auto make_div(A a, B b);
template <class A, class B>
constexpr auto make_pow(A a, B b);

// A term as coefficient * rest: 3*x -> (3, x), -x -> (-1, x), x -> (1, x).
// The coefficient is a type (an exact constant), so that no variable is made
// per term.
template <class E>
struct term_split {
  using coefficient = exact<rational{1, 1}>;
  using rest = E;
};
template <rational C, class E>
struct term_split<node<mul_op, exact_constant<C>, E>> {
  using coefficient = exact<C>;
  using rest = E;
};
template <class E>
struct term_split<node<neg_op, E>> {
  using coefficient = exact<rational{-1, 1}>;
  using rest = E;
};

// A factor as base ^ exponent: x^3 -> (x, 3), x -> (x, 1).
template <class E>
struct factor_split {
  using exponent = exact<rational{1, 1}>;
  using base = E;
};
template <class E, rational K>
struct factor_split<node<pow_op, E, exact_constant<K>>> {
  using exponent = exact<K>;
  using base = E;
};

template <class A, class B>
concept like_terms =
    __is_same(typename term_split<A>::rest, typename term_split<B>::rest) &&
    !is_exact_constant<A> && !is_exact_constant<B> &&
    sum_representable(term_split<A>::coefficient::value, term_split<B>::coefficient::value) &&
    sum_representable(term_split<A>::coefficient::value, -term_split<B>::coefficient::value);

template <class A, class B>
concept like_factors =
    __is_same(typename factor_split<A>::base, typename factor_split<B>::base) &&
    !is_exact_constant<A> && !is_exact_constant<B> &&
    sum_representable(factor_split<A>::exponent::value, factor_split<B>::exponent::value) &&
    sum_representable(factor_split<A>::exponent::value, -factor_split<B>::exponent::value);

// ---- negation ------------------------------------------------------------

// -c -> folded
template <rational C>
constexpr auto neg_rule(exact<C>, priority<3>) {
  return exact<-C>{};
}
// -(-a) -> a
template <class A>
constexpr auto neg_rule(node<neg_op, A>, priority<2>) {
  return A{};
}
// -(c*a) -> (-c)*a
template <rational C, class A>
constexpr auto neg_rule(node<mul_op, exact<C>, A>, priority<2>) {
  return detail::make_mul(exact<-C>{}, A{});
}
// -(a - b) -> b - a
template <class A, class B>
constexpr auto neg_rule(node<sub_op, A, B>, priority<2>) {
  return detail::make_sub(B{}, A{});
}
// -a
template <class A>
constexpr auto neg_rule(A, priority<0>) {
  return node<neg_op, A>{};
}

// ---- addition ------------------------------------------------------------

// c1 + c2 -> folded
template <rational C1, rational C2>
  requires(sum_representable(C1, C2))
constexpr auto add_rule(exact<C1>, exact<C2>, priority<9>) {
  return exact<C1 + C2>{};
}
// c1 + c2 that would overflow: left as it is
template <rational C1, rational C2>
constexpr auto add_rule(exact<C1>, exact<C2>, priority<9>) {
  return node<add_op, exact<C1>, exact<C2>>{};
}
// 0 + a -> a
template <class A, class B>
  requires is_zero<A>
constexpr auto add_rule(A, B, priority<8>) {
  return B{};
}
// a + 0 -> a
template <class A, class B>
  requires is_zero<B>
constexpr auto add_rule(A, B, priority<7>) {
  return A{};
}
// a + (-b) -> a - b
template <class A, class B>
constexpr auto add_rule(A, node<neg_op, B>, priority<6>) {
  return detail::make_sub(A{}, B{});
}
// (-a) + b -> b - a
template <class A, class B>
constexpr auto add_rule(node<neg_op, A>, B, priority<5>) {
  return detail::make_sub(B{}, A{});
}
// c1*a + c2*a -> (c1 + c2)*a   (also a + a -> 2*a, a + 3*a -> 4*a)
template <class A, class B>
  requires like_terms<A, B>
constexpr auto add_rule(A, B, priority<4>) {
  return detail::make_mul(exact<term_split<A>::coefficient::value + term_split<B>::coefficient::value>{},
                  typename term_split<A>::rest{});
}
// Two zero paddings into one Full-shaped tensor whose windows along one axis
// touch (a then b): the sum is a padding of a concatenation. The gradient of
// a tensor sliced into parts (attention's q, k, v out of one projection) is
// one copy then, where it was a zero-filled tensor per part and their sum.
template <class P, class Q>
constexpr bool pads_side_by_side = false;
template <class Full, std::size_t Axis, std::size_t B1, std::size_t B2, class A, class B>
constexpr bool pads_side_by_side<node<pad_op<Full, Axis, B1>, A>, node<pad_op<Full, Axis, B2>, B>> =
    B1 + shape_of<A>::dims[Axis] == B2;

template <class Full, std::size_t Axis, std::size_t B1, std::size_t B2, class A, class B>
constexpr auto padded_concat(node<pad_op<Full, Axis, B1>, A>, node<pad_op<Full, Axis, B2>, B>) {
  using joined = node<concat_op<shape_of<A>, shape_of<B>, Axis>, A, B>;
  if constexpr (B1 == 0 && shape_of<joined>::dims[Axis] == Full::dims[Axis])
    return joined{};  // the whole tensor: no padding left
  else
    return node<pad_op<Full, Axis, B1>, joined>{};
}

// pad(a) + pad(b), windows side by side -> pad(concat(a, b))
template <class P, class Q>
  requires pads_side_by_side<P, Q>
constexpr auto add_rule(P p, Q q, priority<4>) {
  return detail::padded_concat(p, q);
}
// pad(b) + pad(a), windows side by side -> pad(concat(a, b))
template <class P, class Q>
  requires pads_side_by_side<Q, P>
constexpr auto add_rule(P p, Q q, priority<4>) {
  return detail::padded_concat(q, p);
}
// (x + pad(a)) + pad(b), windows side by side -> x + pad(concat(a, b)), and
// the other orders: a sum of three parts' paddings, in any order, joins.
template <class X, class P, class Q>
  requires(pads_side_by_side<P, Q> || pads_side_by_side<Q, P>)
constexpr auto add_rule(node<add_op, X, P>, Q q, priority<4>) {
  return detail::make_add(X{}, detail::make_add(P{}, q));
}
template <class X, class P, class Q>
  requires((pads_side_by_side<P, Q> || pads_side_by_side<Q, P>) &&
           !(pads_side_by_side<X, Q> || pads_side_by_side<Q, X>))
constexpr auto add_rule(node<add_op, P, X>, Q q, priority<4>) {
  return detail::make_add(X{}, detail::make_add(P{}, q));
}
// a + (-c)*b -> a - c*b
template <class A, rational C, class B>
  requires(C < rational{0, 1})
constexpr auto add_rule(A, node<mul_op, exact<C>, B>, priority<3>) {
  return detail::make_sub(A{}, detail::make_mul(exact<-C>{}, B{}));
}
// a/c + b/c -> (a + b)/c   (one division instead of two)
template <class A, class B, class C>
constexpr auto add_rule(node<div_op, A, C>, node<div_op, B, C>, priority<3>) {
  return detail::make_div(detail::make_add(A{}, B{}), C{});
}
// c*a + c*b -> c*(a + b)   (one product instead of two)
template <class C, class A, class B>
  requires(!is_exact_constant<C>)
constexpr auto add_rule(node<mul_op, C, A>, node<mul_op, C, B>, priority<3>) {
  return detail::make_mul(C{}, detail::make_add(A{}, B{}));
}
// a*c + b*c -> (a + b)*c
template <class A, class B, class C>
  requires(!is_exact_constant<C>)
constexpr auto add_rule(node<mul_op, A, C>, node<mul_op, B, C>, priority<2>) {
  return detail::make_mul(detail::make_add(A{}, B{}), C{});
}
// (a + c1) + c2 -> a + (c1 + c2)
template <class A, rational C1, rational C2>
  requires(sum_representable(C1, C2))
constexpr auto add_rule(node<add_op, A, exact<C1>>, exact<C2>, priority<2>) {
  return detail::make_add(A{}, exact<C1 + C2>{});
}
// c + a -> a + c   (constants last in sums, as in x + 1)
template <rational C, class A>
constexpr auto add_rule(exact<C>, A, priority<1>) {
  return detail::make_add(A{}, exact<C>{});
}
// a + b
template <class A, class B>
constexpr auto add_rule(A, B, priority<0>) {
  return node<add_op, A, B>{};
}

// ---- subtraction ---------------------------------------------------------

// c1 - c2 -> folded
template <rational C1, rational C2>
  requires(sum_representable(C1, -C2))
constexpr auto sub_rule(exact<C1>, exact<C2>, priority<9>) {
  return exact<C1 - C2>{};
}
// c1 - c2 that would overflow: left as it is
template <rational C1, rational C2>
constexpr auto sub_rule(exact<C1>, exact<C2>, priority<9>) {
  return node<sub_op, exact<C1>, exact<C2>>{};
}
// a - 0 -> a
template <class A, class B>
  requires is_zero<B>
constexpr auto sub_rule(A, B, priority<8>) {
  return A{};
}
// 0 - a -> -a
template <class A, class B>
  requires is_zero<A>
constexpr auto sub_rule(A, B, priority<7>) {
  return detail::make_neg(B{});
}
// a - (-b) -> a + b
template <class A, class B>
constexpr auto sub_rule(A, node<neg_op, B>, priority<6>) {
  return detail::make_add(A{}, B{});
}
// c1*a - c2*a -> (c1 - c2)*a   (also a - a -> 0)
template <class A, class B>
  requires like_terms<A, B>
constexpr auto sub_rule(A, B, priority<5>) {
  return detail::make_mul(exact<term_split<A>::coefficient::value - term_split<B>::coefficient::value>{},
                  typename term_split<A>::rest{});
}
// a - (-c)*b -> a + c*b
template <class A, rational C, class B>
  requires(C < rational{0, 1})
constexpr auto sub_rule(A, node<mul_op, exact<C>, B>, priority<4>) {
  return detail::make_add(A{}, detail::make_mul(exact<-C>{}, B{}));
}
// a/c - b/c -> (a - b)/c
template <class A, class B, class C>
constexpr auto sub_rule(node<div_op, A, C>, node<div_op, B, C>, priority<4>) {
  return detail::make_div(detail::make_sub(A{}, B{}), C{});
}
// c*a - c*b -> c*(a - b)
template <class C, class A, class B>
  requires(!is_exact_constant<C>)
constexpr auto sub_rule(node<mul_op, C, A>, node<mul_op, C, B>, priority<4>) {
  return detail::make_mul(C{}, detail::make_sub(A{}, B{}));
}
// a*c - b*c -> (a - b)*c
template <class A, class B, class C>
  requires(!is_exact_constant<C>)
constexpr auto sub_rule(node<mul_op, A, C>, node<mul_op, B, C>, priority<3>) {
  return detail::make_mul(detail::make_sub(A{}, B{}), C{});
}
// a - c -> a + (-c)   (so constants fold through sums)
template <class A, rational C>
constexpr auto sub_rule(A, exact<C>, priority<3>) {
  return detail::make_add(A{}, exact<-C>{});
}
// (-a) - b -> -(a + b)   (so that a sum of negated terms is one negation of a sum)
template <class A, class B>
constexpr auto sub_rule(node<neg_op, A>, B, priority<2>) {
  return detail::make_neg(detail::make_add(A{}, B{}));
}
// a - b
template <class A, class B>
constexpr auto sub_rule(A, B, priority<0>) {
  return node<sub_op, A, B>{};
}

// ---- multiplication ------------------------------------------------------

// c1 * c2 -> folded
template <rational C1, rational C2>
  requires(product_representable(C1, C2))
constexpr auto mul_rule(exact<C1>, exact<C2>, priority<12>) {
  return exact<C1 * C2>{};
}
// c1 * c2 that would overflow: left as it is
template <rational C1, rational C2>
constexpr auto mul_rule(exact<C1>, exact<C2>, priority<12>) {
  return node<mul_op, exact<C1>, exact<C2>>{};
}
// 0 * a -> 0,  a * 0 -> 0
template <class A, class B>
  requires(is_zero<A> || is_zero<B>)
constexpr auto mul_rule(A, B, priority<11>) {
  return exact<rational{0, 1}>{};
}
// 1 * a -> a
template <class A, class B>
  requires is_one<A>
constexpr auto mul_rule(A, B, priority<10>) {
  return B{};
}
// a * 1 -> a
template <class A, class B>
  requires is_one<B>
constexpr auto mul_rule(A, B, priority<10>) {
  return A{};
}
// -1 * a -> -a
template <class A, class B>
  requires is_minus_one<A>
constexpr auto mul_rule(A, B, priority<9>) {
  return detail::make_neg(B{});
}
// a * c -> c * a   (constants first in products, as in 3*x)
template <class A, rational C>
constexpr auto mul_rule(A, exact<C>, priority<8>) {
  return detail::make_mul(exact<C>{}, A{});
}
// (-a) * (-b) -> a*b
template <class A, class B>
constexpr auto mul_rule(node<neg_op, A>, node<neg_op, B>, priority<8>) {
  return detail::make_mul(A{}, B{});
}
// (-a) * b -> -(a*b)
template <class A, class B>
constexpr auto mul_rule(node<neg_op, A>, B, priority<7>) {
  return detail::make_neg(detail::make_mul(A{}, B{}));
}
// a * (-b) -> -(a*b)
template <class A, class B>
constexpr auto mul_rule(A, node<neg_op, B>, priority<7>) {
  return detail::make_neg(detail::make_mul(A{}, B{}));
}
// c1 * (c2*a) -> (c1*c2)*a
template <rational C1, rational C2, class A>
  requires(product_representable(C1, C2))
constexpr auto mul_rule(exact<C1>, node<mul_op, exact<C2>, A>, priority<6>) {
  return detail::make_mul(exact<C1 * C2>{}, A{});
}
// (c1*a) * (c2*b) -> (c1*c2)*(a*b)   (the constants fold; other products keep
// their factors, so that a shared factor such as an adjoint -2*(y - t) stays shared)
template <rational C1, class A, rational C2, class B>
  requires(product_representable(C1, C2))
constexpr auto mul_rule(node<mul_op, exact<C1>, A>, node<mul_op, exact<C2>, B>, priority<5>) {
  return detail::make_mul(exact<C1 * C2>{}, detail::make_mul(A{}, B{}));
}
// a^m * a^n -> a^(m + n)   (also a * a -> a^2)
template <class A, class B>
  requires like_factors<A, B>
constexpr auto mul_rule(A, B, priority<4>) {
  return detail::make_pow(typename factor_split<A>::base{},
                  exact<factor_split<A>::exponent::value + factor_split<B>::exponent::value>{});
}
// a * (b*c) -> (a*b)*c when a and b are powers of one base (y*(y*s) -> y^2*s)
template <class A, class B, class C>
  requires(like_factors<A, B> && !is_exact_constant<B>)
constexpr auto mul_rule(A, node<mul_op, B, C>, priority<3>) {
  return detail::make_mul(detail::make_mul(A{}, B{}), C{});
}
// a * (b*c) -> (a*c)*b when a and c are powers of one base (y*(s*y) -> y^2*s)
template <class A, class B, class C>
  requires(like_factors<A, C> && !like_factors<A, B>)
constexpr auto mul_rule(A, node<mul_op, B, C>, priority<3>) {
  return detail::make_mul(detail::make_mul(A{}, C{}), B{});
}
// (a*b) * c -> (a*c)*b when a and c are powers of one base
template <class A, class B, class C>
  requires(like_factors<A, C> && !is_exact_constant<A>)
constexpr auto mul_rule(node<mul_op, A, B>, C, priority<2>) {
  return detail::make_mul(detail::make_mul(A{}, C{}), B{});
}
// (a*b) * c -> a*(b*c) when b and c are powers of one base
template <class A, class B, class C>
  requires(like_factors<B, C> && !like_factors<A, C>)
constexpr auto mul_rule(node<mul_op, A, B>, C, priority<2>) {
  return detail::make_mul(A{}, detail::make_mul(B{}, C{}));
}
// a * (b/c) -> (a*b)/c when a and b are powers of one base (y*(y/s) -> y^2/s)
template <class A, class B, class C>
  requires like_factors<A, B>
constexpr auto mul_rule(A, node<div_op, B, C>, priority<3>) {
  return detail::make_div(detail::make_mul(A{}, B{}), C{});
}
// (a/c) * b -> (a*b)/c when a and b are powers of one base
template <class A, class B, class C>
  requires like_factors<A, B>
constexpr auto mul_rule(node<div_op, A, C>, B, priority<2>) {
  return detail::make_div(detail::make_mul(A{}, B{}), C{});
}
// a * (1/b) -> a/b
template <class A, class B>
constexpr auto mul_rule(A, node<div_op, exact<rational{1, 1}>, B>, priority<1>) {
  return detail::make_div(A{}, B{});
}
// a * b
template <class A, class B>
constexpr auto mul_rule(A, B, priority<0>) {
  return node<mul_op, A, B>{};
}

// ---- division ------------------------------------------------------------

template <rational C>
struct division_by_exact_zero {
  static_assert(C.num != 0, "tapeless: the expression divides by an exact zero");
};

// c1 / c2 -> folded
template <rational C1, rational C2>
  requires(C2.num == 0 || quotient_representable(C1, C2))
constexpr auto div_rule(exact<C1>, exact<C2>, priority<10>) {
  (void)division_by_exact_zero<C2>{};
  if constexpr (C2.num != 0)
    return exact<C1 / C2>{};
}
// c1 / c2 that would overflow: left as it is
template <rational C1, rational C2>
constexpr auto div_rule(exact<C1>, exact<C2>, priority<10>) {
  return node<div_op, exact<C1>, exact<C2>>{};
}
// 0 / a -> 0
template <class A, class B>
  requires is_zero<A>
constexpr auto div_rule(A, B, priority<9>) {
  return A{};
}
// a / 1 -> a
template <class A, class B>
  requires is_one<B>
constexpr auto div_rule(A, B, priority<9>) {
  return A{};
}
// a / c -> (1/c)*a
template <class A, rational C>
  requires(C.num != 0)
constexpr auto div_rule(A, exact<C>, priority<8>) {
  return detail::make_mul(exact<rational{1, 1} / C>{}, A{});
}
// (-a) / (-b) -> a/b
template <class A, class B>
constexpr auto div_rule(node<neg_op, A>, node<neg_op, B>, priority<8>) {
  return detail::make_div(A{}, B{});
}
// (-a) / b -> -(a/b)
template <class A, class B>
constexpr auto div_rule(node<neg_op, A>, B, priority<7>) {
  return detail::make_neg(detail::make_div(A{}, B{}));
}
// a / (-b) -> -(a/b)
template <class A, class B>
constexpr auto div_rule(A, node<neg_op, B>, priority<7>) {
  return detail::make_neg(detail::make_div(A{}, B{}));
}
// a^m / a^n -> a^(m - n)   (also a / a -> 1)
template <class A, class B>
  requires like_factors<A, B>
constexpr auto div_rule(A, B, priority<6>) {
  return detail::make_pow(typename factor_split<A>::base{},
                  exact<factor_split<A>::exponent::value - factor_split<B>::exponent::value>{});
}
// (c*a) / b -> c*(a/b)
template <rational C, class A, class B>
constexpr auto div_rule(node<mul_op, exact<C>, A>, B, priority<5>) {
  return detail::make_mul(exact<C>{}, detail::make_div(A{}, B{}));
}
// a / b
template <class A, class B>
constexpr auto div_rule(A, B, priority<0>) {
  return node<div_op, A, B>{};
}

// ---- powers --------------------------------------------------------------

// a^0 -> 1
template <class A, class K>
  requires is_zero<K>
constexpr auto pow_rule(A, K, priority<9>) {
  return exact<rational{1, 1}>{};
}
// a^1 -> a
template <class A, class K>
  requires is_one<K>
constexpr auto pow_rule(A, K, priority<8>) {
  return A{};
}
// c^n -> folded, for exact c and a small integer n
template <rational C, rational N>
  requires(N.den == 1 && N.num >= -16 && N.num <= 16 && power_representable(C, N.num))
constexpr auto pow_rule(exact<C>, exact<N>, priority<7>) {
  return exact<power(C, N.num)>{};
}
// 1^k -> 1
template <class K>
constexpr auto pow_rule(exact<rational{1, 1}>, K, priority<6>) {
  return exact<rational{1, 1}>{};
}
// (c/b)^n -> c^n/b^n for an exact c and a positive integer n   ((1/x)^2 -> 1/x^2)
template <rational C, class B, rational N>
  requires(N.den == 1 && N.num >= 1 && N.num <= 16 && power_representable(C, N.num))
constexpr auto pow_rule(node<div_op, exact<C>, B>, exact<N>, priority<5>) {
  return detail::make_div(exact<power(C, N.num)>{}, detail::make_pow(B{}, exact<N>{}));
}
// (a^m)^n -> a^(m*n) for integer n
template <class A, rational M, rational N>
  requires(N.den == 1 && product_representable(M, N))
constexpr auto pow_rule(node<pow_op, A, exact<M>>, exact<N>, priority<5>) {
  return detail::make_pow(A{}, exact<M * N>{});
}
// a^k
template <class A, class K>
constexpr auto pow_rule(A, K, priority<0>) {
  return node<pow_op, A, K>{};
}

// ---- the smart constructors ------------------------------------------------

template <class A>
constexpr auto make_neg(A a) {
  return neg_rule(a, highest_priority);
}
template <class A, class B>
constexpr auto make_add(A a, B b) {
  return add_rule(a, b, highest_priority);
}
template <class A, class B>
constexpr auto make_sub(A a, B b) {
  return sub_rule(a, b, highest_priority);
}
template <class A, class B>
constexpr auto make_mul(A a, B b) {
  return mul_rule(a, b, highest_priority);
}
template <class A, class B>
constexpr auto make_div(A a, B b) {
  return div_rule(a, b, highest_priority);
}
template <class A, class B>
constexpr auto make_pow(A a, B b) {
  return pow_rule(a, b, highest_priority);
}

// ---- functions -----------------------------------------------------------

// Functions of exact arguments whose value is exact fold: exp(0) -> 1, ...
template <class Op, rational C>
inline constexpr bool folds_at = false;
template <>
inline constexpr bool folds_at<exp_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<log_op, rational{1, 1}> = true;
template <>
inline constexpr bool folds_at<sin_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<cos_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<tan_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<tanh_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<sigmoid_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<sqrt_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<sqrt_op, rational{1, 1}> = true;
template <>
inline constexpr bool folds_at<atan_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<asin_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<acos_op, rational{1, 1}> = true;
template <>
inline constexpr bool folds_at<sinh_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<cosh_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<asinh_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<log1p_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<expm1_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<cbrt_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<cbrt_op, rational{1, 1}> = true;
template <>
inline constexpr bool folds_at<erf_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<erfc_op, rational{0, 1}> = true;
template <>
inline constexpr bool folds_at<normal_cdf_op, rational{0, 1}> = true;

template <class Op, class A>
constexpr auto function_rule(A, priority<0>) {
  return node<Op, A>{};
}
// f(c) -> its exact value, where it has one (exp(0) -> 1, log(1) -> 0, sigmoid(0) -> 1/2, ...)
template <class Op, rational C>
  requires folds_at<Op, C>
constexpr auto function_rule(exact<C>, priority<4>) {
  if constexpr (std::is_same_v<Op, exp_op> || std::is_same_v<Op, cos_op> ||
                std::is_same_v<Op, cosh_op> || std::is_same_v<Op, erfc_op>)
    return exact<rational{1, 1}>{};
  else if constexpr (std::is_same_v<Op, sigmoid_op> || std::is_same_v<Op, normal_cdf_op>)
    return exact<rational{1, 2}>{};
  else if constexpr (std::is_same_v<Op, log_op> || std::is_same_v<Op, acos_op>)
    return exact<rational{0, 1}>{};
  else
    return exact<C>{};  // sin, tan, tanh, sqrt, atan, asin, sinh, asinh, log1p, expm1,
                        // cbrt, erf of 0 are 0; sqrt(1) and cbrt(1) are 1
}
// abs, relu, square, step, heaviside, sign of an exact constant -> folded
template <class Op, rational C>
  requires(std::is_same_v<Op, abs_op> || std::is_same_v<Op, relu_op> ||
           std::is_same_v<Op, square_op> || std::is_same_v<Op, step_op> ||
           std::is_same_v<Op, heaviside_op> || std::is_same_v<Op, sign_op>)
constexpr auto function_rule(exact<C>, priority<4>) {
  if constexpr (std::is_same_v<Op, abs_op>)
    return exact<(C < rational{0, 1}) ? -C : C>{};
  else if constexpr (std::is_same_v<Op, relu_op>)
    return exact<(C < rational{0, 1}) ? rational{0, 1} : C>{};
  else if constexpr (std::is_same_v<Op, square_op>)
    return exact<C * C>{};
  else if constexpr (std::is_same_v<Op, step_op>)
    return exact<(rational{0, 1} < C) ? rational{1, 1} : rational{0, 1}>{};
  else if constexpr (std::is_same_v<Op, heaviside_op>)
    return exact<(rational{0, 1} < C) ? rational{1, 1} : (C < rational{0, 1}) ? rational{0, 1} : rational{1, 2}>{};
  else
    return exact<(rational{0, 1} < C) ? rational{1, 1} : (C < rational{0, 1}) ? rational{-1, 1} : rational{0, 1}>{};
}
// square(a) -> a^2   (so that powers merge)
template <class Op, class A>
  requires std::is_same_v<Op, square_op>
constexpr auto function_rule(A, priority<3>) {
  return detail::make_pow(A{}, exact<rational{2, 1}>{});
}
// exp(log(a)) -> a
template <class Op, class A>
  requires std::is_same_v<Op, exp_op>
constexpr auto function_rule(node<log_op, A>, priority<2>) {
  return A{};
}
// log(exp(a)) -> a
template <class Op, class A>
  requires std::is_same_v<Op, log_op>
constexpr auto function_rule(node<exp_op, A>, priority<2>) {
  return A{};
}

// ---- full sums ---------------------------------------------------------------
// A factor the same for every element (rank 0) leaves a sum to a scalar:
// sum(a / s) -> sum(a) / s, sum(s * a) -> s * sum(a), sum(a * s) -> sum(a) * s,
// sum(-a) -> -sum(a). n divisions or products become one, and the sum left is
// often one the function has already: the normal log-density's d/dsigma is
// then (sum(z^2) - n)/sigma, z^2 summed once for both. Only sums to a scalar:
// after an axis sum the factor would be an elementwise pass of its own.
template <class Op>
struct full_sum_test {
  enum : bool { value = false };
};
template <class In>
struct full_sum_test<reduce_op<sum_reduction, In, shape<>>> {
  enum : bool { value = true };
};
template <class Op>
concept full_sum = bool(full_sum_test<Op>::value);
template <class E>
concept rank_zero = shape_of<E>::rank == 0;

template <class Op, class A>
constexpr auto make_function(A a);

template <class Op, class A, class S>
  requires(full_sum<Op> && rank_zero<S> && !rank_zero<A>)
constexpr auto function_rule(node<div_op, A, S>, priority<3>) {
  return detail::make_div(detail::make_function<Op>(A{}), S{});
}
template <class Op, class S, class A>
  requires(full_sum<Op> && rank_zero<S> && !rank_zero<A>)
constexpr auto function_rule(node<mul_op, S, A>, priority<3>) {
  return detail::make_mul(S{}, detail::make_function<Op>(A{}));
}
template <class Op, class A, class S>
  requires(full_sum<Op> && rank_zero<S> && !rank_zero<A>)
constexpr auto function_rule(node<mul_op, A, S>, priority<3>) {
  return detail::make_mul(detail::make_function<Op>(A{}), S{});
}
template <class Op, class A>
  requires(full_sum<Op> && !rank_zero<A>)
constexpr auto function_rule(node<neg_op, A>, priority<3>) {
  return detail::make_neg(detail::make_function<Op>(A{}));
}

template <class Op, class A>
constexpr auto make_function(A a) {
  return function_rule<Op>(a, highest_priority);
}

// Rebuilds a node of any operation through its smart constructor.
template <class Op, class... Operands>
constexpr auto make_node(Operands... operands) {
  if constexpr (std::is_same_v<Op, add_op>)
    return detail::make_add(operands...);
  else if constexpr (std::is_same_v<Op, sub_op>)
    return detail::make_sub(operands...);
  else if constexpr (std::is_same_v<Op, mul_op>)
    return detail::make_mul(operands...);
  else if constexpr (std::is_same_v<Op, div_op>)
    return detail::make_div(operands...);
  else if constexpr (std::is_same_v<Op, neg_op>)
    return detail::make_neg(operands...);
  else if constexpr (std::is_same_v<Op, pow_op>)
    return detail::make_pow(operands...);
  else if constexpr (requires { rewrite<Op>::make(operands...); })
    return rewrite<Op>::make(operands...);
  else if constexpr (sizeof...(Operands) == 1)
    return detail::make_function<Op>(operands...);
  else
    return node<Op, Operands...>{};
}

}  // namespace tapeless::detail
