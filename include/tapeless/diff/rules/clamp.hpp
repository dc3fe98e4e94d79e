#pragma once
// The derivative of clamp(x, lo, hi), as torch.clamp's with tensor bounds:
//   x  gets g where lo <= x <= hi (so at x = lo or x = hi too),
//   lo gets g where x < lo and lo < hi,
//   hi gets g where x > hi, or where hi < lo (then the result is hi).
// Away from the ties this is the derivative of min(max(x, lo), hi).

#include <tapeless/diff/rules/compare.hpp>
#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/where.hpp>
#include <tapeless/expr/clamp.hpp>

namespace tapeless::detail {

template <>
struct vjp_rule<clamp_op> {
  template <std::size_t I, class X, class Lo, class Hi, class G>
  static constexpr auto partial(node<clamp_op, X, Lo, Hi>, G g) {
    constexpr exact<rational{0, 1}> zero{};
    if constexpr (is_zero<G>)
      return zero;
    else if constexpr (I == 0)
      return detail::make_where(detail::make_mul(detail::make_node<greater_equal_op>(X{}, Lo{}),
                                 detail::make_node<less_equal_op>(X{}, Hi{})),
                        g, zero);
    else if constexpr (I == 1)
      return detail::make_where(detail::make_mul(detail::make_node<less_op>(X{}, Lo{}), detail::make_node<less_op>(Lo{}, Hi{})),
                        g, zero);
    else
      return detail::make_where(detail::make_add(detail::make_node<greater_op>(X{}, Hi{}), detail::make_node<less_op>(Hi{}, Lo{})),
                        g, zero);
  }
};

}  // namespace tapeless::detail
