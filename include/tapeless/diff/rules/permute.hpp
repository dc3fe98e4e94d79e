#pragma once
// d permute<axes>(a) = permute<inverse of axes>(da).

#include <cstddef>
#include <utility>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/permute.hpp>

namespace tapeless::detail {

template <class In, std::size_t... Axes>
struct vjp_rule<permute_op<In, Axes...>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<permute_op<In, Axes...>, A>, G g) {
    if constexpr (is_zero<G>) {
      return zero_adjoint{};
    } else {
      constexpr auto inverse = inverse_order<Axes...>();
      using Out = shape_of<node<permute_op<In, Axes...>, A>>;
      return [&]<std::size_t... K>(std::index_sequence<K...>) {
        return tapeless::permute<inverse[K]...>(detail::as_shape<Out>(g));
      }(std::make_index_sequence<sizeof...(Axes)>{});
    }
  }
};

}  // namespace tapeless::detail
