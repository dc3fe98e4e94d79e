#pragma once
// tl::nn::gru<"gru", H>(x): a gated recurrent unit layer, as
// torch.nn.GRU(F, H, batch_first=True), gates r, z, n in that order:
//
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h' = (1 - z) * n + z * h,                       h before the first step = 0
//
// x is [N, T, F]; the result is every h, [N, T, H]. Parameters
// "gru.weight_ih_l0" [3H, F], "gru.weight_hh_l0" [3H, H], "gru.bias_ih_l0"
// [3H], "gru.bias_hh_l0" [3H]. One scan (expr/scan.hpp).

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/nn/detail/recurrent.hpp>

namespace tapeless::nn {

template <fixed_string Name, std::size_t H, expression X>
constexpr auto gru(const X& x) {
  if constexpr (detail::check_sequence<Name, X>()) {
    constexpr std::size_t n = shape_of<X>::dims[0], f = shape_of<X>::dims[2];
    using p = detail::recurrent_parameters<Name, floating_element_t<X>, 3, H, f>;
    constexpr auto h = p::template carry<n, H>;
    constexpr auto in = p::template step<n>;  // the input's part of the gates
    constexpr auto hidden = p::recurrent(h);  // the carry's part
    constexpr auto r = sigmoid(slice<1, 0, H>(in) + slice<1, 0, H>(hidden));
    constexpr auto z = sigmoid(slice<1, H, 2 * H>(in) + slice<1, H, 2 * H>(hidden));
    constexpr auto candidate = tanh(slice<1, 2 * H, 3 * H>(in) + r * slice<1, 2 * H, 3 * H>(hidden));
    constexpr auto body = (c<1> - z) * candidate + z * h;
    return detail::recurrent_scan<p, decltype(body), decltype(h), decltype(in)>(x);
  }
}

}  // namespace tapeless::nn
