#pragma once
// Vector-Jacobian products of pooling: backward nodes run by their kernels
// (compile/kernels/pool2d.hpp).
//   max_pool2d: the adjoint of each output goes to the element its window's
//   maximum was taken from (the indices the forward kernel kept);
//   avg_pool2d: each output's adjoint / kernel^2 to every element of its window.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/pool2d.hpp>

namespace tapeless::detail {

template <class Window>
struct vjp_rule<max_pool2d_op<Window>> {
  template <std::size_t I, class X, class G>
  static constexpr auto partial(node<max_pool2d_op<Window>, X> self, G g) {
    using Self = decltype(self);
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return node<max_pool2d_backward_op<Window, shape_of<X>>, decltype(detail::as_shape<shape_of<Self>>(g)), Self>{};
  }
};

template <class Window>
struct vjp_rule<avg_pool2d_op<Window>> {
  template <std::size_t I, class X, class G>
  static constexpr auto partial(node<avg_pool2d_op<Window>, X> self, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return node<avg_pool2d_backward_op<Window, shape_of<X>>,
                  decltype(detail::as_shape<shape_of<decltype(self)>>(g))>{};
  }
};

}  // namespace tapeless::detail
