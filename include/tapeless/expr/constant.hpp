#pragma once
// Constants. An exact constant (tl::c<3>, tl::c<1, 2>, 0.5_c) is a type, so
// it folds at compile time and costs nothing at run time. A plain number in an
// expression (x * 0.5) is a run-time constant held in the node.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapeless/core/rational.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

template <rational Value>
struct exact_constant : expression_interface<exact_constant<Value>> {
  static_assert(Value.den > 0, "tapeless: exact constants are kept normalized (use tl::c<N, D>)");
  static constexpr rational value = Value;
  using shape_type = shape<>;
};

// tl::c<3>, tl::c<-1, 2>: exact rational constants.
template <std::intmax_t Num, std::intmax_t Den = 1>
inline constexpr exact_constant<normalized(Num, Den)> c{};

template <class T>
struct constant : expression_interface<constant<T>> {
  static_assert(std::is_arithmetic_v<T>, "tapeless: a run-time constant must be an arithmetic value");
  using shape_type = shape<>;
  T value{};

  constexpr constant() = default;
  constexpr explicit constant(T v) : value(v) {}
};

// A run-time constant after labelling (expr/label.hpp): its value lives in
// slot Slot of a table, so the node itself is empty and its type unique.
template <std::size_t Slot, class T>
struct constant_slot : expression_interface<constant_slot<Slot, T>> {
  using shape_type = shape<>;
  using value_type = T;
  static constexpr std::size_t slot = Slot;
};

namespace detail {

template <class E>
constexpr bool is_exact = false;
template <rational R>
constexpr bool is_exact<exact_constant<R>> = true;

template <class E>
inline constexpr bool is_constant = false;
template <class T>
inline constexpr bool is_constant<constant<T>> = true;

template <class T>
constexpr bool is_stateless<constant<T>> = false;

template <class E>
constexpr bool is_slot = false;
template <std::size_t Slot, class T>
constexpr bool is_slot<constant_slot<Slot, T>> = true;

// Parses a numeric literal (digits, '.', exponent) into an exact rational.
template <char... Chars>
consteval rational parse_exact_literal() {
  constexpr char text[] = {Chars..., '\0'};
  detail::wide_int num = 0, den = 1;
  std::intmax_t exponent = 0;
  std::size_t i = 0;
  bool fraction = false, any_digit = false;
  for (; text[i] != '\0' && text[i] != 'e' && text[i] != 'E'; ++i) {
    const char ch = text[i];
    if (ch == '\'') continue;
    if (ch == '.') {
      if (fraction) throw "tapeless: _c literal with two decimal points";
      fraction = true;
      continue;
    }
    if (ch < '0' || ch > '9') throw "tapeless: _c literals are decimal (digits, '.', exponent)";
    any_digit = true;
    num = num * 10 + (ch - '0');
    if (fraction) den *= 10;
    if (num > INTMAX_MAX || den > INTMAX_MAX) throw "tapeless: _c literal has too many digits";
  }
  if (!any_digit) throw "tapeless: _c literal without digits";
  if (text[i] == 'e' || text[i] == 'E') {
    ++i;
    bool negative = false;
    if (text[i] == '+' || text[i] == '-') negative = text[i++] == '-';
    if (text[i] == '\0') throw "tapeless: _c literal with an empty exponent";
    for (; text[i] != '\0'; ++i) {
      if (text[i] < '0' || text[i] > '9') throw "tapeless: _c literal exponent must be decimal";
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > 36) throw "tapeless: _c literal exponent out of range";
    }
    if (negative) exponent = -exponent;
  }
  for (; exponent > 0; --exponent) num *= 10;
  for (; exponent < 0; ++exponent) den *= 10;
  return normalized(num, den);
}

}  // namespace detail

namespace literals {

// 3_c, 0.5_c, 1e-3_c: exact constants written as decimal literals.
template <char... Chars>
consteval auto operator""_c() {
  return exact_constant<detail::parse_exact_literal<Chars...>()>{};
}

}  // namespace literals

}  // namespace tapeless
