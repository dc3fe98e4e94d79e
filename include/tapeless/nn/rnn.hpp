#pragma once
// tl::nn::rnn<"rnn", H>(x): an Elman recurrent layer with tanh, as
// torch.nn.RNN(F, H, batch_first=True):
//
//   h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   h_{-1} = 0
//
// x is [N, T, F]; the result is every h_t, [N, T, H]. Parameters
// "rnn.weight_ih_l0" [H, F], "rnn.weight_hh_l0" [H, H], "rnn.bias_ih_l0" [H],
// "rnn.bias_hh_l0" [H]. One scan (expr/scan.hpp): compile time does not grow
// with T. Stack layers by composition: rnn<"b", 8>(rnn<"a", 16>(x)).

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/nn/detail/recurrent.hpp>

namespace tapeless::nn {

template <fixed_string Name, std::size_t H, expression X>
constexpr auto rnn(const X& x) {
  if constexpr (detail::check_sequence<Name, X>()) {
    constexpr std::size_t n = shape_of<X>::dims[0], f = shape_of<X>::dims[2];
    using p = detail::recurrent_parameters<Name, floating_element_t<X>, 1, H, f>;
    constexpr auto h = p::template carry<n, H>;
    constexpr auto step = p::template step<n>;
    constexpr auto body = tanh(step + p::recurrent(h));
    return detail::recurrent_scan<p, decltype(body), decltype(h), decltype(step)>(x);
  }
}

}  // namespace tapeless::nn
