#pragma once
// d causal_mask(a): the adjoint below and on the diagonal, 0 above it (the
// masked entries do not depend on a).

#include <cstddef>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/causal_mask.hpp>

namespace tapeless::detail {

template <std::size_t Length, masked_entry Fill>
struct vjp_rule<causal_mask_op<Length, Fill>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<causal_mask_op<Length, Fill>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return detail::causal_fill<masked_entry::zero>(detail::as_shape<shape_of<A>>(g));
  }
};

}  // namespace tapeless::detail
