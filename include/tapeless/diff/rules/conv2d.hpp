#pragma once
// Vector-Jacobian products of conv2d: each operand's adjoint is a node of its
// own, run by its kernel (compile/kernels/conv2d.hpp).
//   d conv(x, w) = conv(dx, w) + conv(x, dw):
//   x gets conv2d_input_gradient(g, w), w gets conv2d_weight_gradient(x, g).
// The gradient nodes have no rule of their own: a second derivative through a
// convolution stops at vjp_rule's message.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/conv2d.hpp>

namespace tapeless::detail {

template <conv_options O>
struct vjp_rule<conv2d_op<O>> {
  template <std::size_t I, class X, class W, class G>
  static constexpr auto partial(node<conv2d_op<O>, X, W> self, G g) {
    using Y = shape_of<decltype(self)>;
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else if constexpr (I == 0)
      return node<conv2d_input_gradient_op<O, shape_of<X>>, decltype(detail::as_shape<Y>(g)), W>{};
    else
      return node<conv2d_weight_gradient_op<O, shape_of<W>>, X, decltype(detail::as_shape<Y>(g))>{};
  }
};

}  // namespace tapeless::detail
