#pragma once
// Activations beyond the elementary functions, written as expressions of them
// (so their derivatives come from the existing rules, and fuse like any
// elementwise chain): leaky_relu, elu, gelu, softplus, silu. sigmoid, tanh and
// relu are elementary ops (expr/elementary.hpp); softmax and log_softmax are
// in expr/reduce.hpp.
//
// Two GELUs: gelu and gelu_tanh are the tanh approximation (torch's
// gelu(approximate="tanh")); gelu_exact is the erf form, torch.nn.GELU()'s
// default and TransformerEncoderLayer's activation="gelu".

#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/erf.hpp>
#include <tapeless/expr/minmax.hpp>

namespace tapeless {

// a where a > 0, slope * a elsewhere: a * (slope + (1 - slope) step(a)), whose
// derivative at 0 is slope, as PyTorch's. The default slope is exactly 1/100;
// give another as an exact constant (leaky_relu(a, 0.2_c)) when a is reused,
// so that its uses stay one subexpression.
template <expression A>
constexpr auto leaky_relu(const A& a) {
  return a * (c<1, 100> + c<99, 100> * step(a));
}
template <expression A, rational S>
constexpr auto leaky_relu(const A& a, exact_constant<S>) {
  return a * (c<S.num, S.den> + c<S.den - S.num, S.den> * step(a));
}
template <expression A, class S>
  requires std::is_arithmetic_v<S>
constexpr auto leaky_relu(const A& a, S slope) {
  return a * (slope + (1 - slope) * step(a));
}

// a where a > 0, alpha (e^a - 1) elsewhere: relu(a) + alpha (e^min(a, 0) - 1),
// so that e^a never overflows for large a.
template <expression A>
constexpr auto elu(const A& a) {
  return relu(a) + (exp(min(a, c<0>)) - c<1>);
}
template <expression A, class S>
  requires std::is_arithmetic_v<S>
constexpr auto elu(const A& a, S alpha) {
  return relu(a) + alpha * (exp(min(a, c<0>)) - c<1>);
}

// GELU, tanh approximation (PyTorch's gelu(approximate="tanh")):
// a/2 (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3))).
template <expression A>
constexpr auto gelu(const A& a) {
  // sqrt(2/pi) to 16 digits, as an exact constant: a run-time one would make
  // every use of the layer's input a distinct subexpression (expr/label.hpp).
  constexpr auto sqrt_2_over_pi = c<7978845608028654, 10000000000000000>;
  return c<1, 2> * a * (c<1> + tanh(sqrt_2_over_pi * (a + c<44715, 1000000> * pow(a, c<3>))));
}

// The same tanh approximation, named for what it is.
template <expression A>
constexpr auto gelu_tanh(const A& a) {
  return gelu(a);
}

// GELU, exact (torch.nn.GELU()'s default): a P(Z <= a) = a/2 (1 + erf(a / sqrt(2))).
template <expression A>
constexpr auto gelu_exact(const A& a) {
  return a * normal_cdf(a);
}

// log(1 + e^a), computed as relu(a) + log(1 + e^-|a|) so that it neither
// overflows nor loses the small values.
template <expression A>
constexpr auto softplus(const A& a) {
  return relu(a) + log(c<1> + exp(-abs(a)));
}

// a sigmoid(a) (also called swish).
template <expression A>
constexpr auto silu(const A& a) {
  return a * sigmoid(a);
}

}  // namespace tapeless
