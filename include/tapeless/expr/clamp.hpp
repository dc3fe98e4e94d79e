#pragma once
// tl::clamp(x, lo, hi): x limited to [lo, hi], elementwise, with NumPy
// broadcasting; lo and hi are expressions or plain numbers. As torch.clamp:
// min(max(x, lo), hi), so hi wins where lo > hi, and a NaN x stays NaN. Its
// derivative (diff/rules/clamp.hpp) follows torch.clamp's with tensor bounds.

#include <string_view>

#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/select.hpp>

namespace tapeless {

struct clamp_op : elementwise_operation {
  static constexpr std::string_view name = "clamp";
  template <class T>
  static constexpr T apply(T x, T lo, T hi) {
    const T at_least_lo = select(x < lo, lo, x);
    return select(at_least_lo > hi, hi, at_least_lo);
  }
};

template <operand X, operand Lo, operand Hi>
  requires(expression<X> || expression<Lo> || expression<Hi>)
constexpr auto clamp(const X& x, const Lo& lo, const Hi& hi) {
  return tapeless::make_elementwise<clamp_op, 'c'>(x, lo, hi);
}

}  // namespace tapeless
