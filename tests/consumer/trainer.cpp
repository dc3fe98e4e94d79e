// A project that uses an installed tapeless: trains XOR (2-4-1, tanh, binary
// cross-entropy of logits, Adam) and exits 0 only if the loss fell to a tenth
// of its first value and all four predictions are right. Built by run.sh
// three ways: Meson dependency('tapeless'), CMake find_package(tapeless), and
// g++ $(pkg-config --cflags tapeless).

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
  for (std::size_t r = 0; r < 4; ++r) {
    inputs(r, 0) = table[r][0];
    inputs(r, 1) = table[r][1];
    outputs(r, 0) = table[r][2];
  }

  float first = 0, last = 0;
  for (int step = 0; step < 500; ++step) {
    last = trainer.step(params, in = inputs, truth = outputs);
    if (step == 0) first = last;
    opt.step(params);
  }
  const auto& p = predict(params, in = inputs);
  bool right = true;
  for (std::size_t r = 0; r < 4; ++r) right = right && ((p(r, 0) > 0.5f) == (table[r][2] > 0.5f));
  const bool fell = last < 0.1f * first;
  std::printf("loss %.5f -> %.5f (%s), predictions %s\n", first, last, fell ? "fell" : "did not fall",
              right ? "all four right" : "wrong");
  return fell && right ? 0 : 1;
}
