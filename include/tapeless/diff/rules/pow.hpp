#pragma once
// Vector-Jacobian product of pow(a, b).

#include <tapeless/diff/rules/rule.hpp>

namespace tapeless::detail {

// d a^k = k a^(k-1) da for an exact k; in general
// d a^b = b a^(b-1) da + a^b log(a) db
template <>
struct vjp_rule<pow_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<pow_op, A, B> self, G g) {
    if constexpr (I == 0) {
      if constexpr (is_exact<B>)
        return detail::make_mul(detail::make_mul(B{}, detail::make_pow(A{}, exact<B::value - rational{1, 1}>{})), g);
      else
        return detail::make_mul(detail::make_mul(B{}, detail::make_pow(A{}, detail::make_sub(B{}, exact<rational{1, 1}>{}))), g);
    } else
      return detail::make_mul(detail::make_mul(self, detail::make_function<log_op>(A{})), g);
  }
};

}  // namespace tapeless::detail
