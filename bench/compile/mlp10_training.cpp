// Compile-cost workload: a 10-layer perceptron (64 -> 9 x 128 -> 10, tanh,
// softmax cross-entropy, batch 32), its training program instantiated and
// stepped once.
#include <tapeless/tapeless.hpp>

#include <cstdio>
#include <memory>

namespace tl = tapeless;

constexpr auto X = tl::input<"X", float, 32, 64>;
constexpr auto Y = tl::input<"Y", std::int32_t, 32>;

template <tl::fixed_string Name, std::size_t Out, class H>
constexpr auto dense(const H& h) {
  constexpr std::size_t in = tl::shape_of<H>::dims[1];
  constexpr auto W = tl::param<Name, float, Out, in>;
  constexpr auto b = tl::param<Name + tl::fixed_string(".bias"), float, Out>;
  return tl::matmul(h, tl::transpose(W)) + b;
}

constexpr auto h1 = tl::tanh(dense<"l1", 128>(X));
constexpr auto h2 = tl::tanh(dense<"l2", 128>(h1));
constexpr auto h3 = tl::tanh(dense<"l3", 128>(h2));
constexpr auto h4 = tl::tanh(dense<"l4", 128>(h3));
constexpr auto h5 = tl::tanh(dense<"l5", 128>(h4));
constexpr auto h6 = tl::tanh(dense<"l6", 128>(h5));
constexpr auto h7 = tl::tanh(dense<"l7", 128>(h6));
constexpr auto h8 = tl::tanh(dense<"l8", 128>(h7));
constexpr auto h9 = tl::tanh(dense<"l9", 128>(h8));
constexpr auto loss = tl::cross_entropy(dense<"l10", 10>(h9), Y);

int main() {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  auto x = std::make_unique<tl::tensor<float, 32, 64>>();
  auto y = std::make_unique<tl::tensor<std::int32_t, 32>>();
  std::printf("%g\n", double(program.step(params, X = *x, Y = *y)));
}
