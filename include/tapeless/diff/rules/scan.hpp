#pragma once
// d scan: backpropagation through time. Every operand's gradient comes out of
// one reverse scan (scan_gradient_op), which walks the steps from the last to
// the first over the derivative of the body, reading the carries the forward
// scan stored; each operand's partial is its part of that one node's buffer,
// so the reverse scan runs once however many operands need it.

#include <cstddef>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/scan.hpp>

namespace tapeless::detail {

template <class Body, class Carry, class Step, bool InitialCarry, bool KeepsState, bool TimeMajor>
struct vjp_rule<scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>> {
  template <std::size_t I, class X, class... Rest, class G>
  static constexpr auto partial(node<scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>, X, Rest...> self,
                                G g) {
    using self_type = decltype(self);
    if constexpr (is_zero<G>) {
      return zero_adjoint{};
    } else {
      using adjoint = decltype(detail::as_shape<shape_of<self_type>>(g));
      using reverse = node<scan_gradient_op<self_type>, X, self_type, adjoint, Rest...>;
      // Operand I's gradient starts after those of the operands before it.
      constexpr std::size_t offset = [] {
        constexpr std::size_t sizes[] = {shape_of<X>::size, shape_of<Rest>::size...};
        std::size_t n = 0;
        for (std::size_t i = 0; i < I; ++i) n += sizes[i];
        return n;
      }();
      using operand = typename type_at<I, type_list<X, Rest...>>::type;
      return node<scan_part_op<offset, shape_of<operand>>, reverse>{};
    }
  }
};

}  // namespace tapeless::detail
