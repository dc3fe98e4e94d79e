#pragma once
// Exact rational arithmetic at compile time, for the constants that
// differentiation produces (3 in 3*x^2, 1/2 in the derivative of sqrt).

#include <cstdint>
#include <numeric>

namespace tapeless {

namespace detail {
__extension__ typedef __int128 wide_int;  // exact products of two intmax_t
}  // namespace detail

struct rational {
  std::intmax_t num = 0;
  std::intmax_t den = 1;

  constexpr bool operator==(const rational&) const = default;
  constexpr bool is_integer() const { return den == 1; }
  template <class T>
  constexpr T as() const {
    return den == 1 ? static_cast<T>(num) : static_cast<T>(num) / static_cast<T>(den);
  }
};

namespace detail {

constexpr std::intmax_t checked(wide_int v) {
  // A compile-time constant that leaves intmax_t stops constant evaluation here.
  if (v > INTMAX_MAX || v < -INTMAX_MAX) throw "tapeless: exact constant overflows std::intmax_t";
  return static_cast<std::intmax_t>(v);
}

}  // namespace detail

constexpr rational normalized(detail::wide_int num, detail::wide_int den);

namespace detail {

// Whether num/den, in lowest terms, fits a rational (no overflow).
constexpr bool representable(wide_int num, wide_int den) {
  if (den == 0) return false;
  if (den < 0) num = -num, den = -den;
  wide_int a = num < 0 ? -num : num, b = den;
  while (b != 0) {
    const wide_int t = a % b;
    a = b;
    b = t;
  }
  if (a == 0) a = 1;
  const wide_int n = num / a, d = den / a;
  return n <= INTMAX_MAX && n >= -INTMAX_MAX && d <= INTMAX_MAX;
}

}  // namespace detail

// Whether a + b, a * b and a / b are exact rationals too; the simplifier folds
// constants only when they are (and otherwise leaves the operation in place).
constexpr bool sum_representable(rational a, rational b) {
  return detail::representable(detail::wide_int{a.num} * b.den + detail::wide_int{b.num} * a.den,
                               detail::wide_int{a.den} * b.den);
}
constexpr bool product_representable(rational a, rational b) {
  return detail::representable(detail::wide_int{a.num} * b.num, detail::wide_int{a.den} * b.den);
}
constexpr bool quotient_representable(rational a, rational b) {
  return b.num != 0 &&
         detail::representable(detail::wide_int{a.num} * b.den, detail::wide_int{a.den} * b.num);
}
constexpr bool power_representable(rational a, std::intmax_t n) {
  if (a.num == 0 && n < 0) return false;
  rational result{1, 1};
  for (std::intmax_t i = 0; i < (n < 0 ? -n : n); ++i) {
    if (!product_representable(result, a)) return false;
    result = normalized(detail::wide_int{result.num} * a.num, detail::wide_int{result.den} * a.den);
  }
  return true;
}

constexpr rational normalized(detail::wide_int num, detail::wide_int den) {
  if (den == 0) throw "tapeless: exact constant with zero denominator";
  if (den < 0) num = -num, den = -den;
  detail::wide_int a = num < 0 ? -num : num, b = den;
  while (b != 0) {
    const detail::wide_int t = a % b;
    a = b;
    b = t;
  }
  if (a == 0) a = 1;
  return {detail::checked(num / a), detail::checked(den / a)};
}

namespace detail {
// v as a fraction of 10^12, the exact constant for a decimal option (eps =
// 1e-5 is exactly 1/100000): an exact constant folds and shares where a
// run-time number would not (expr/label.hpp).
constexpr rational exact_decimal(double v) {
  constexpr double scale = 1e12;
  const double scaled = v * scale;
  return normalized(static_cast<long long>(scaled + (scaled < 0 ? -0.5 : 0.5)), static_cast<long long>(scale));
}
}  // namespace detail

constexpr rational operator+(rational a, rational b) {
  return normalized(detail::wide_int{a.num} * b.den + detail::wide_int{b.num} * a.den, detail::wide_int{a.den} * b.den);
}
constexpr rational operator-(rational a) { return {-a.num, a.den}; }
constexpr rational operator-(rational a, rational b) { return a + (-b); }
constexpr rational operator*(rational a, rational b) {
  return normalized(detail::wide_int{a.num} * b.num, detail::wide_int{a.den} * b.den);
}
constexpr rational operator/(rational a, rational b) {
  return normalized(detail::wide_int{a.num} * b.den, detail::wide_int{a.den} * b.num);
}
constexpr bool operator<(rational a, rational b) {
  return detail::wide_int{a.num} * b.den < detail::wide_int{b.num} * a.den;
}

// a^n for integer n.
constexpr rational power(rational a, std::intmax_t n) {
  rational result{1, 1};
  const bool invert = n < 0;
  for (std::intmax_t i = 0; i < (invert ? -n : n); ++i) result = result * a;
  return invert ? rational{1, 1} / result : result;
}

}  // namespace tapeless
