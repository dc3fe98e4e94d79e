#pragma once
// What the recurrent layers (nn/rnn.hpp, nn/gru.hpp, nn/lstm.hpp) share:
// PyTorch's parameter names, the input check, and the input projection.
//
// The input's part of every gate, x W_ih^T + b_ih, does not depend on the
// carry: it is one GEMM over all N * T rows before the scan (and its weight
// gradient one GEMM after the reverse scan), so the scan's body holds only
// the carry's part, h W_hh^T + b_hh.
//
// A batch (N > 1) runs time-major: the sequence is permuted to [T, N, F]
// once, so that each step's rows of the projected input, of the carries and
// of their gradients lie together and the scan reads and writes them in
// place (a batch-first scan would copy N short rows in and out at every step
// of both passes); the carries are permuted back to [N, T, S] once.

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/permute.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::nn::detail {

template <fixed_string Layer, class S>
struct recurrent_layer_needs_n_t_f {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::rnn / gru / lstm: the input must be a sequence [N, T, F] (batch first, "
                "as PyTorch's batch_first=True; one sequence is N = 1); its shape is above");
  static constexpr bool ok = false;
};

template <fixed_string Layer, class X>
constexpr bool check_sequence() {
  if constexpr (shape_of<X>::rank == 3)
    return true;
  else
    return recurrent_layer_needs_n_t_f<Layer, shape_of<X>>::ok;
}

// [A, B, W] -> [B, A, W]: a reshape (no copy) when A or B is 1.
template <class X>
constexpr auto time_major(const X& x) {
  constexpr std::size_t a = shape_of<X>::dims[0], b = shape_of<X>::dims[1], w = shape_of<X>::dims[2];
  if constexpr (a == 1 || b == 1)
    return reshape<b, a, w>(x);
  else
    return tapeless::permute<1, 0, 2>(x);
}

// The layer's parameters, named as torch.nn.RNN / GRU / LSTM name those of
// their first layer; Gates blocks of H rows each, in PyTorch's gate order.
template <fixed_string Name, class T, std::size_t Gates, std::size_t H, std::size_t F>
struct recurrent_parameters {
  static constexpr auto weight_ih = param<Name + fixed_string(".weight_ih_l0"), T, Gates * H, F>;
  static constexpr auto weight_hh = param<Name + fixed_string(".weight_hh_l0"), T, Gates * H, H>;
  static constexpr auto bias_ih = param<Name + fixed_string(".bias_ih_l0"), T, Gates * H>;
  static constexpr auto bias_hh = param<Name + fixed_string(".bias_hh_l0"), T, Gates * H>;
  // The scan's placeholders: the carry [N, State] and one step's projected input.
  template <std::size_t N, std::size_t State>
  static constexpr auto carry = input<Name + fixed_string(".carry"), T, N, State>;
  template <std::size_t N>
  static constexpr auto step = input<Name + fixed_string(".step"), T, N, Gates * H>;

  // x W_ih^T + b_ih for every step at once: [N, T, Gates * H].
  template <class X>
  static constexpr auto projected(const X& x) {
    constexpr std::size_t n = shape_of<X>::dims[0], t = shape_of<X>::dims[1];
    return reshape<n, t, Gates * H>(matmul(reshape<n * t, F>(x), tapeless::transpose(weight_ih)) + bias_ih);
  }
  // The same in time-major order, [T, N, Gates * H], from x [N, T, F].
  template <class X>
  static constexpr auto projected_time_major(const X& x) {
    constexpr std::size_t n = shape_of<X>::dims[0], t = shape_of<X>::dims[1];
    return reshape<t, n, Gates * H>(matmul(reshape<t * n, F>(time_major(x)), tapeless::transpose(weight_ih)) + bias_ih);
  }
  // h W_hh^T + b_hh, the carry's part of the gates: [N, Gates * H].
  template <class Hidden>
  static constexpr auto recurrent(const Hidden& h) {
    return matmul(h, tapeless::transpose(weight_hh)) + bias_hh;
  }
};

// The carries of scan(Body, Carry, Step) over the projected sequence of x,
// [N, T, S], with their last axis sliced to [Begin, End) (the whole carry by
// default): time-major for a batch (see the top of this file).
template <class P, class Body, class Carry, class Step, std::size_t Begin = 0, std::size_t End = 0, class X>
constexpr auto recurrent_scan(const X& x) {
  constexpr std::size_t state = shape_of<Carry>::dims[1];
  constexpr std::size_t end = End == 0 ? state : End;
  const auto window = [](const auto& states) {
    if constexpr (Begin == 0 && end == state)
      return states;
    else
      return slice<2, Begin, end>(states);
  };
  if constexpr (shape_of<X>::dims[0] == 1)
    return window(scan(Body{}, Carry{}, Step{}, P::projected(x)));
  else
    return time_major(window(scan_time_major(Body{}, Carry{}, Step{}, P::projected_time_major(x))));
}

}  // namespace tapeless::nn::detail
