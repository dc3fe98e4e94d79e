// XOR, the function a single layer cannot learn: a 2-4-1 network with a
// sigmoid output, binary cross-entropy of logits, and Adam. Prints the four
// predictions.

#include <tapeless/tapeless.hpp>

#include <cstdio>

namespace tl = tapeless;

constexpr auto in = tl::input<"in", float, 4, 2>;
constexpr auto truth = tl::input<"truth", float, 4, 1>;
constexpr auto logit = tl::nn::linear<"out", 1>(tl::tanh(tl::nn::linear<"hidden", 4>(in)));
constexpr auto loss = tl::binary_cross_entropy_with_logits(logit, truth);

int main() {
  auto trainer = tl::compile(loss);
  auto predict = tl::compile(tl::sigmoid(logit));
  auto params = tl::parameters_of(loss);
  tl::init::xavier_normal(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 0.05f});

  tl::tensor<float, 4, 2> inputs;
  tl::tensor<float, 4, 1> outputs;
  const float table[4][3] = {{0, 0, 0}, {0, 1, 1}, {1, 0, 1}, {1, 1, 0}};
  for (std::size_t r = 0; r < 4; ++r) inputs(r, 0) = table[r][0], inputs(r, 1) = table[r][1], outputs(r, 0) = table[r][2];

  float l = 0;
  for (int step = 0; step < 500; ++step) {
    l = trainer.step(params, in = inputs, truth = outputs);
    opt.step(params);
  }
  const auto& p = predict(params, in = inputs);
  bool right = true;
  for (std::size_t r = 0; r < 4; ++r) {
    std::printf("%g xor %g = %g   network: %.4f\n", table[r][0], table[r][1], table[r][2], p(r, 0));
    right = right && ((p(r, 0) > 0.5f) == (table[r][2] > 0.5f));
  }
  std::printf("loss %.5f, %s\n", l, right ? "all four right" : "not learned");
  return right ? 0 : 1;
}
