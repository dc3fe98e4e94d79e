// Compile-cost workload: the training program of a tanh RNN (batch 8, 16
// features, hidden 32) over `steps` time steps through one scan, and a
// squared-error loss on every step's state, instantiated and stepped once.
// rnn_steps_10.cpp and rnn_steps_1000.cpp differ only in the length: a scan
// compiles its body once, so both should cost the same (DESIGN principle 7).
#include <tapeless/tapeless.hpp>

#include <cstdio>
#include <memory>

namespace tl = tapeless;

constexpr auto h = tl::input<"h", float, 8, 32>;
constexpr auto x = tl::input<"x", float, 8, 16>;
constexpr auto W = tl::param<"rnn.weight_ih_l0", float, 32, 16>;
constexpr auto U = tl::param<"rnn.weight_hh_l0", float, 32, 32>;
constexpr auto b = tl::param<"rnn.bias", float, 32>;
constexpr auto X = tl::input<"X", float, 8, steps, 16>;
constexpr auto Y = tl::input<"Y", float, 8, steps, 32>;
constexpr auto hs = tl::scan(tl::tanh(tl::matmul(x, tl::transpose(W)) + tl::matmul(h, tl::transpose(U)) + b), h, x, X);
constexpr auto loss = tl::mean(tl::square(hs - Y));

int main() {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  auto xs = std::make_unique<tl::tensor<float, 8, steps, 16>>();
  auto ys = std::make_unique<tl::tensor<float, 8, steps, 32>>();
  std::printf("%g\n", double(program.step(params, X = *xs, Y = *ys)));
}
