#pragma once
// pow(a, k): integer, rational, real or symbolic exponents. An exact exponent
// (tl::c<3>, 3_c) is evaluated by repeated multiplication, so polynomials stay
// constexpr and exact; any other exponent uses std::pow.

#include <cmath>
#include <cstdint>
#include <string_view>

#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

namespace detail {

// Integer exponents up to this size are computed by repeated squaring
// (multiplications only, exact in constexpr, the same on SIMD lanes as on
// scalars); larger ones by std::pow. Every evaluator, scalar or SIMD, asks
// this one predicate, so a value is computed the same way everywhere.
inline constexpr std::intmax_t max_power_by_squaring = 64;

template <rational K>
inline constexpr bool power_by_squaring_exponent =
    K.den == 1 && K.num >= -max_power_by_squaring && K.num <= max_power_by_squaring;

template <std::intmax_t N, class T>
constexpr T power_by_squaring(T a) {
  if constexpr (N == 0)
    return T(1);
  else if constexpr (N == 1)
    return a;
  else if constexpr (N % 2 == 0) {
    const T half = power_by_squaring<N / 2>(a);
    return half * half;
  } else
    return power_by_squaring<N - 1>(a) * a;
}

}  // namespace detail

struct pow_op : elementwise_operation {
  static constexpr std::string_view infix = "^";
  static constexpr int precedence = 4;
  // The evaluator hands exact exponents over as types (see expr/evaluate.hpp).
  static constexpr bool takes_exact_operands = true;

  template <class T, rational K>
  static constexpr T apply(T a, exact_constant<K>) {
    if constexpr (detail::power_by_squaring_exponent<K> && K.num >= 0)
      return detail::power_by_squaring<K.num>(a);
    else if constexpr (detail::power_by_squaring_exponent<K>)
      return T(1) / detail::power_by_squaring<-K.num>(a);
    else if constexpr (K == rational{1, 2}) {
      using std::sqrt;
      return sqrt(a);
    } else {
      using std::pow;
      return pow(a, K.as<T>());
    }
  }
  template <rational K, class T>
  static constexpr T apply(exact_constant<K>, T b) {
    using std::pow;
    return pow(K.as<T>(), b);
  }
  template <rational B, rational K>
  static constexpr double apply(exact_constant<B>, exact_constant<K> k) {
    return apply(B.as<double>(), k);
  }
  template <class T>
  static constexpr T apply(T a, T b) {
    using std::pow;
    return pow(a, b);
  }
};

template <expression A, operand K>
constexpr auto pow(const A& a, const K& k) {
  return tapeless::make_elementwise<pow_op, '^'>(a, k);
}

}  // namespace tapeless
