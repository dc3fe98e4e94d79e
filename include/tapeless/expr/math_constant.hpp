#pragma once
// Irrational constants as types: tl::pi, tl::sqrt2. Like exact constants they
// are empty, so a subexpression holding one is shared by type; the value is
// taken in the evaluation type when evaluated (to long double precision).
// Derivative rules use a few more (2/sqrt(pi), 1/sqrt(2 pi)).

#include <string_view>

#include <tapeless/core/shape.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

template <class Tag>
struct math_constant : expression_interface<math_constant<Tag>> {
  using shape_type = shape<>;
  static constexpr std::string_view name = Tag::name;
  template <class T>
  static constexpr T as() {
    return static_cast<T>(Tag::value);
  }
};

namespace constant_tags {
struct pi {
  static constexpr std::string_view name = "pi";
  static constexpr long double value = 3.141592653589793238462643383279502884L;
};
struct sqrt2 {
  static constexpr std::string_view name = "sqrt(2)";
  static constexpr long double value = 1.414213562373095048801688724209698079L;
};
struct two_over_sqrt_pi {
  static constexpr std::string_view name = "2/sqrt(pi)";
  static constexpr long double value = 1.128379167095512573896158903121545172L;
};
struct one_over_sqrt_two_pi {
  static constexpr std::string_view name = "1/sqrt(2*pi)";
  static constexpr long double value = 0.398942280401432677939946059934381868L;
};
}  // namespace constant_tags

inline constexpr math_constant<constant_tags::pi> pi{};
inline constexpr math_constant<constant_tags::sqrt2> sqrt2{};

namespace detail {

template <class E>
constexpr bool is_math_constant = false;
template <class Tag>
constexpr bool is_math_constant<math_constant<Tag>> = true;

}  // namespace detail

}  // namespace tapeless
