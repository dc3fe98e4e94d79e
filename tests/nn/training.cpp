// Training as a user sees it: a model trained in PyTorch loads and predicts
// the same; one seed gives the same weights twice; the whole training step
// (program and optimizer) never allocates.
#define BOOST_TEST_MODULE nn_training
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <new>

namespace mlp {
#include "../reference/safetensors_mlp.inc"
}

namespace tl = tapeless;

// Every allocation in this test program is counted.
#include "../counting_allocator.hpp"

BOOST_AUTO_TEST_CASE(model_trained_in_pytorch_loads_and_predicts_the_same) {
  constexpr auto X = tl::input<"X", float, mlp::batch, mlp::inputs>;
  constexpr auto output = tl::nn::linear<"fc2", mlp::outputs>(tl::relu(tl::nn::linear<"fc1", mlp::hidden>(X)));
  auto predict = tl::compile(output);
  auto params = tl::parameters_of(output);
  tl::io::load(params, std::filesystem::path(TAPELESS_TEST_SOURCE_DIR) / "tests/reference/safetensors_mlp.safetensors");
  tl::tensor<float, mlp::batch, mlp::inputs> x;
  std::copy(mlp::input.begin(), mlp::input.end(), x.begin());
  const auto& y = predict(params, X = x);
  for (std::size_t i = 0; i < y.size(); ++i)
    BOOST_TEST(std::abs(y[i] - mlp::output[i]) <= 1e-6f, "output " << i << ": " << y[i] << ", PyTorch " << mlp::output[i]);
}

namespace {

constexpr auto X = tl::input<"X", float, 32, 16>;
constexpr auto Y = tl::input<"Y", std::int32_t, 32>;
constexpr auto loss =
    tl::cross_entropy(tl::nn::linear<"out", 4>(tl::tanh(tl::nn::linear<"hidden", 32>(X))), Y);
using store = decltype(tl::parameters_of(loss));

// 20 Adam steps from seeded weights on seeded data.
store train(std::uint64_t seed) {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, seed);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-2f});
  tl::random_stream data{seed + 1};
  tl::tensor<float, 32, 16> x;
  tl::tensor<std::int32_t, 32> y;
  for (int step = 0; step < 20; ++step) {
    for (auto& e : x) e = data.normal();
    for (auto& e : y) e = static_cast<std::int32_t>(data.below(4));
    program.step(params, X = x, Y = y);
    opt.step(params);
  }
  return params;
}

bool same_bits(const store& a, const store& b) {
  bool same = true;
  a.visit([&](std::string_view name, const auto& value, const auto&) {
    b.visit([&](std::string_view other, const auto& value_b, const auto&) {
      // The elements only: a tensor's alignment may pad it, and padding is not a weight.
      if (name == other) same = same && std::memcmp(value.data(), value_b.data(), value.size() * sizeof(value[0])) == 0;
    });
  });
  return same;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_runs_with_one_seed_give_bit_identical_weights) {
  const store first = train(5), second = train(5), other = train(6);
  BOOST_TEST(same_bits(first, second));
  BOOST_TEST(!same_bits(first, other));
}

BOOST_AUTO_TEST_CASE(training_step_with_optimizer_never_allocates) {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::he_normal(params, 3);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  tl::tensor<float, 32, 16> x;
  tl::tensor<std::int32_t, 32> y;
  tl::random_stream data{9};
  for (auto& e : x) e = data.normal();
  for (auto& e : y) e = static_cast<std::int32_t>(data.below(4));
  const std::size_t before = allocations.load();
  float first = 0, last = 0;
  for (int step = 0; step < 50; ++step) {
    last = program.step(params, X = x, Y = y);
    if (step == 0) first = last;
    tl::optim::clip_grad_norm(params, 5.f);
    opt.step(params);
  }
  BOOST_TEST(allocations.load() == before);
  BOOST_TEST(last < 0.5f * first, "loss " << first << " -> " << last);  // it learns the batch
}

BOOST_AUTO_TEST_CASE(compile_with_an_optimizer_steps_like_program_and_optimizer) {
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  // The weights (entries 0 and 2) are updated in their gradient GEMMs'
  // epilogues, the biases (1 and 3) where their gradients' sums over the
  // batch end: no gradient is stored.
  using trainer_type = decltype(trainer);
  static_assert(trainer_type::updates_in_gemm<0> && trainer_type::updates_in_gemm<2>);
  static_assert(trainer_type::updates_in_gemm<1> && trainer_type::updates_in_gemm<3>);
  auto program = tl::compile(loss);
  auto opt = tl::optim::optimizer(tl::parameters_of(loss), tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  auto a = tl::parameters_of(loss);
  tl::init::he_normal(a, 4);
  auto b = a;
  tl::tensor<float, 32, 16> x;
  tl::tensor<std::int32_t, 32> y;
  tl::random_stream data{2};
  for (auto& e : x) e = data.normal();
  for (auto& e : y) e = static_cast<std::int32_t>(data.below(4));
  for (int step = 0; step < 5; ++step) {
    const float la = trainer.step(a, X = x, Y = y);
    const float lb = program.step(b, X = x, Y = y);
    opt.step(b);
    BOOST_TEST(std::abs(la - lb) <= 1e-6f * std::abs(lb));
  }
  // Fused or not, the same arithmetic per element, but the compiler may
  // contract a * b + c into one FMA in one place and not the other.
  a.visit([&](std::string_view name, const auto& value, const auto&) {
    b.visit([&](std::string_view other, const auto& value_b, const auto&) {
      if (name != other) return;
      for (std::size_t i = 0; i < value.size(); ++i)
        BOOST_TEST(std::abs(value[i] - value_b[i]) <= 1e-5f * std::max(1.f, std::abs(value_b[i])),
                   std::string(name) << "[" << i << "]: " << value[i] << " vs " << value_b[i]);
    });
  });
}
