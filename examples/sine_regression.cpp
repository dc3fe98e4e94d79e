// A 1-32-32-1 network (tanh) learning sin(x) on [-pi, pi] with mean squared
// error and SGD with momentum: the smallest regression there is, as a type.
// Prints the loss as it falls and a few predictions against sin.

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>

namespace tl = tapeless;

constexpr std::size_t batch = 64;
constexpr auto x = tl::input<"x", float, batch, 1>;
constexpr auto target = tl::input<"target", float, batch, 1>;
constexpr auto prediction =
    tl::nn::linear<"out", 1>(tl::tanh(tl::nn::linear<"hidden2", 32>(tl::tanh(tl::nn::linear<"hidden1", 32>(x)))));
constexpr auto loss = tl::mse(prediction, target);

int main() {
  auto trainer = tl::compile<tl::inline_storage>(loss);       // everything on the stack:
  auto params = tl::parameters_of<tl::inline_storage>(loss);  // no heap at all
  tl::init::xavier_uniform(params, /*seed*/ 3);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});

  tl::random_stream rng{11};
  tl::tensor<float, batch, 1> xs, ys;
  float l = 0;
  for (int step = 1; step <= 6000; ++step) {
    for (std::size_t i = 0; i < batch; ++i) {
      xs[i] = rng.uniform(-std::numbers::pi_v<float>, std::numbers::pi_v<float>);
      ys[i] = std::sin(xs[i]);
    }
    l = trainer.step(params, x = xs, target = ys);
    opt.step(params);
    if (step % 1000 == 0) std::printf("step %4d  mse %.6f\n", step, l);
  }

  auto predict = tl::compile<tl::inline_storage>(prediction);
  for (std::size_t i = 0; i < batch; ++i) xs[i] = -std::numbers::pi_v<float> + 2 * std::numbers::pi_v<float> * float(i) / (batch - 1);
  const auto& p = predict(params, x = xs);
  double worst = 0;
  for (std::size_t i = 0; i < batch; ++i) worst = std::fmax(worst, std::fabs(p[i] - std::sin(xs[i])));
  for (std::size_t i = 0; i < batch; i += 16) std::printf("sin(%+.3f) = %+.4f, network: %+.4f\n", xs[i], std::sin(xs[i]), p[i]);
  std::printf("largest error on [-pi, pi]: %.4f\n", worst);
  return worst < 0.05 ? 0 : 1;
}
