#pragma once
// What tests/compile/inlining_forms.cpp computes in two builds, one with the
// library's forced inlining and one without (TAPELESS_NO_FORCED_INLINING):
// a few training steps of an MLP at batch 1 and 8 (SGD fused into the
// weight-gradient GEMMs, the small-batch paths) and of a small CNN (convolution,
// batch norm, pooling, cross-entropy, AdamW through tl::optim::optimizer),
// then inference. Every loss and parameter, as bits.
#include <tapeless/tapeless.hpp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace inlining_forms {

namespace tl = tapeless;

template <class Store>
void append_parameters(std::vector<std::uint32_t>& bits, Store& params) {
  params.visit([&](std::string_view, auto& value, auto&) {
    for (std::size_t i = 0; i < value.size(); ++i) bits.push_back(std::bit_cast<std::uint32_t>(float(value[i])));
  });
}

template <std::size_t B>
void mlp(std::vector<std::uint32_t>& bits) {
  static constexpr auto X = tl::input<"X", float, B, 16>;
  static constexpr auto T = tl::input<"T", float, B, 1>;
  static constexpr auto out = tl::nn::linear<"fc3", 1>(
      tl::tanh(tl::nn::linear<"fc2", 32>(tl::tanh(tl::nn::linear<"fc1", 32>(X)))));
  static constexpr auto loss = tl::mse(out, T);
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, 5);
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});
  auto predict = tl::compile(out);
  tl::random_stream rng{11};
  tl::tensor<float, B, 16> x;
  tl::tensor<float, B, 1> t;
  for (int step = 0; step < 4; ++step) {
    for (auto& e : x) e = 2 * rng.uniform() - 1;
    for (auto& e : t) e = rng.uniform();
    bits.push_back(std::bit_cast<std::uint32_t>(trainer.step(params, X = x, T = t)));
  }
  append_parameters(bits, params);
  for (float y : predict(params, X = x)) bits.push_back(std::bit_cast<std::uint32_t>(y));
}

inline void cnn(std::vector<std::uint32_t>& bits) {
  static constexpr std::size_t batch = 4;
  static constexpr auto X = tl::input<"X", float, batch, 2, 9, 8>;
  static constexpr auto Y = tl::input<"Y", std::int32_t, batch>;
  static constexpr auto features = tl::max_pool2d<2>(tl::relu(tl::nn::batch_norm2d<"bn">(
      tl::nn::conv2d<"conv", 6, 3, tl::nn::conv_options{.padding = 1}>(X))));
  static constexpr auto logits = tl::nn::linear<"fc", 5>(tl::flatten(features));
  static constexpr auto loss = tl::cross_entropy(logits, Y);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, 3);
  auto program = tl::compile(loss);
  auto predict = tl::compile(logits);
  auto opt = tl::optim::optimizer(params, tl::optim::adamw{.lr = 1e-2f, .weight_decay = 1e-2f});
  tl::random_stream rng{13};
  tl::tensor<float, batch, 2, 9, 8> x;
  tl::tensor<std::int32_t, batch> y;
  for (int step = 0; step < 3; ++step) {
    for (auto& e : x) e = 2 * rng.uniform() - 1;
    for (std::size_t i = 0; i < batch; ++i) y[i] = std::int32_t((i * 3 + std::size_t(step)) % 5);
    bits.push_back(std::bit_cast<std::uint32_t>(program.step(params, X = x, Y = y)));
    opt.step(params);
  }
  append_parameters(bits, params);
  for (float v : predict(params, X = x)) bits.push_back(std::bit_cast<std::uint32_t>(v));
}

inline std::vector<std::uint32_t> results() {
  std::vector<std::uint32_t> bits;
  mlp<1>(bits);
  mlp<8>(bits);
  cnn(bits);
  return bits;
}

}  // namespace inlining_forms
