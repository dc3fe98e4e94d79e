#pragma once
// The error function and the normal distribution: erf(a), erfc(a) = 1 - erf(a)
// (accurate where erf is near 1), normal_cdf(a) = P(Z <= a) for a standard
// normal Z = erfc(-a/sqrt(2))/2. Each also takes a plain number.

#include <cmath>
#include <string_view>
#include <type_traits>

#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

struct erf_op : elementwise_operation {
  static constexpr std::string_view name = "erf";
  static constexpr auto apply(auto a) {
    using std::erf;
    return erf(a);
  }
};

struct erfc_op : elementwise_operation {
  static constexpr std::string_view name = "erfc";
  static constexpr auto apply(auto a) {
    using std::erfc;
    return erfc(a);
  }
};

struct normal_cdf_op : elementwise_operation {
  static constexpr std::string_view name = "normal_cdf";
  template <class T>
  static constexpr T apply(T a) {
    using std::erfc;
    // erfc keeps the lower tail accurate: 1 + erf(a/sqrt(2)) loses it to cancellation.
    return T(0.5) * erfc(a * T(-0.707106781186547524400844362104849039L));
  }
};

template <expression A>
constexpr auto erf(const A& a) {
  return node<erf_op, A>{a};
}
template <class T>
  requires std::is_arithmetic_v<T>
constexpr auto erf(T a) {
  return erf_op::apply(detail::as_floating(a));
}

template <expression A>
constexpr auto erfc(const A& a) {
  return node<erfc_op, A>{a};
}
template <class T>
  requires std::is_arithmetic_v<T>
constexpr auto erfc(T a) {
  return erfc_op::apply(detail::as_floating(a));
}

template <expression A>
constexpr auto normal_cdf(const A& a) {
  return node<normal_cdf_op, A>{a};
}
template <class T>
  requires std::is_arithmetic_v<T>
constexpr auto normal_cdf(T a) {
  return normal_cdf_op::apply(detail::as_floating(a));
}

}  // namespace tapeless
