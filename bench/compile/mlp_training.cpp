// Compile-cost workload: the training program of a 784-256-128-10 perceptron
// (ReLU, softmax cross-entropy, batch 64), instantiated and stepped once.
// bench/compile/measure.py times compiling this file.
#include <tapeless/tapeless.hpp>

#include <cstdio>
#include <memory>

namespace tl = tapeless;

constexpr auto X = tl::input<"X", float, 64, 784>;
constexpr auto Y = tl::input<"Y", std::int32_t, 64>;
constexpr auto W1 = tl::param<"fc1.weight", float, 256, 784>;
constexpr auto b1 = tl::param<"fc1.bias", float, 256>;
constexpr auto W2 = tl::param<"fc2.weight", float, 128, 256>;
constexpr auto b2 = tl::param<"fc2.bias", float, 128>;
constexpr auto W3 = tl::param<"fc3.weight", float, 10, 128>;
constexpr auto b3 = tl::param<"fc3.bias", float, 10>;
constexpr auto h1 = tl::relu(tl::matmul(X, tl::transpose(W1)) + b1);
constexpr auto h2 = tl::relu(tl::matmul(h1, tl::transpose(W2)) + b2);
constexpr auto loss = tl::cross_entropy(tl::matmul(h2, tl::transpose(W3)) + b3, Y);

int main() {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  auto x = std::make_unique<tl::tensor<float, 64, 784>>();
  auto y = std::make_unique<tl::tensor<std::int32_t, 64>>();
  std::printf("%g\n", double(program.step(params, X = *x, Y = *y)));
}
