#pragma once
// tl::nn::lstm<"lstm", H>(x): a long short-term memory layer, as
// torch.nn.LSTM(F, H, batch_first=True), gates i, f, g, o in that order:
//
//   [i, f, g, o] = x W_ih^T + b_ih + h W_hh^T + b_hh
//   c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
//   h' = sigmoid(o) * tanh(c'),                     h, c before the first step = 0
//
// x is [N, T, F]; the result is every h, [N, T, H]. Parameters
// "lstm.weight_ih_l0" [4H, F], "lstm.weight_hh_l0" [4H, H], "lstm.bias_ih_l0"
// [4H], "lstm.bias_hh_l0" [4H]. One scan (expr/scan.hpp) whose carry is h
// and c side by side, [N, 2H]; the result is its h half.

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/nn/detail/recurrent.hpp>

namespace tapeless::nn {

// Every carry of the layer, h and c side by side: [N, T, 2H].
namespace detail {

// The carries of the layer, h and c side by side, [N, T, 2H], with their last
// axis sliced to [Begin, End).
template <fixed_string Name, std::size_t H, std::size_t Begin, std::size_t End, class X>
constexpr auto lstm_carries(const X& x) {
  constexpr std::size_t n = shape_of<X>::dims[0], f = shape_of<X>::dims[2];
  using p = recurrent_parameters<Name, floating_element_t<X>, 4, H, f>;
  constexpr auto carry = p::template carry<n, 2 * H>;
  constexpr auto in = p::template step<n>;
  constexpr auto gates = in + p::recurrent(slice<1, 0, H>(carry));
  constexpr auto i = sigmoid(slice<1, 0, H>(gates));
  constexpr auto forget = sigmoid(slice<1, H, 2 * H>(gates));
  constexpr auto g = tanh(slice<1, 2 * H, 3 * H>(gates));
  constexpr auto o = sigmoid(slice<1, 3 * H, 4 * H>(gates));
  constexpr auto cell = forget * slice<1, H, 2 * H>(carry) + i * g;
  constexpr auto body = concat<1>(o * tanh(cell), cell);
  return recurrent_scan<p, decltype(body), decltype(carry), decltype(in), Begin, End>(x);
}

}  // namespace detail

template <fixed_string Name, std::size_t H, expression X>
constexpr auto lstm_states(const X& x) {
  if constexpr (detail::check_sequence<Name, X>()) return detail::lstm_carries<Name, H, 0, 2 * H>(x);
}

template <fixed_string Name, std::size_t H, expression X>
constexpr auto lstm(const X& x) {
  if constexpr (detail::check_sequence<Name, X>()) return detail::lstm_carries<Name, H, 0, H>(x);
}

}  // namespace tapeless::nn
