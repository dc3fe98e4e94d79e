// Batch-1 programs for bench/checks/batch1_calls.py, which disassembles this
// file's object code and counts the calls each step makes. The file also
// holds a large program (W2's training step), because what g++ inlines
// depends on the size of the translation unit (in large ones it stopped
// inlining xsimd::swizzle).

#include <tapeless/tapeless.hpp>

#include <cstdint>
#include <span>

namespace tl = tapeless;

namespace {

constexpr auto X16 = tl::input<"X", float, 1, 16>;
constexpr auto X64 = tl::input<"X", float, 1, 64>;
constexpr auto T1 = tl::input<"T", float, 1, 1>;
constexpr auto h1 = tl::tanh(tl::nn::linear<"fc1", 32>(X16));
constexpr auto h2 = tl::tanh(tl::nn::linear<"fc2", 32>(h1));
constexpr auto w1_out = tl::nn::linear<"fc3", 1>(h2);
constexpr auto w1_loss = tl::mse(w1_out, T1);
constexpr auto dense16 = tl::nn::linear<"dense", 16>(X16);
constexpr auto dense64 = tl::nn::linear<"dense", 64>(X64);

constexpr auto XW2 = tl::input<"X", float, 64, 784>;
constexpr auto YW2 = tl::input<"Y", std::int32_t, 64>;
constexpr auto w2_loss = tl::cross_entropy(
    tl::nn::linear<"fc3", 10>(tl::relu(tl::nn::linear<"fc2", 128>(tl::relu(tl::nn::linear<"fc1", 256>(XW2))))), YW2);

decltype(tl::compile(w1_out)) w1_predict;
decltype(tl::parameters_of(w1_loss)) w1_params;
decltype(tl::compile(dense16)) dense16_predict;
decltype(tl::parameters_of(dense16)) dense16_params;
decltype(tl::compile(dense64)) dense64_predict;
decltype(tl::parameters_of(dense64)) dense64_params;
auto w1_trainer = tl::compile(w1_loss, tl::optim::sgd{.lr = 0.01f});
auto w2_trainer = tl::compile(w2_loss, tl::optim::sgd{.lr = 0.01f, .momentum = 0.9f});
decltype(tl::parameters_of(w2_loss)) w2_params;

}  // namespace

// The checked entry points: each calls one program once.
extern "C" float batch1_w1_inference(const float* x) {
  return w1_predict(w1_params, X16 = std::span<const float, 16>(x, 16)).data()[0];
}
extern "C" float batch1_dense16(const float* x) {
  return dense16_predict(dense16_params, X16 = std::span<const float, 16>(x, 16)).data()[0];
}
extern "C" float batch1_dense64(const float* x) {
  return dense64_predict(dense64_params, X64 = std::span<const float, 64>(x, 64)).data()[0];
}
// The training step, its bias updates included (inlined: optim/trainer.hpp).
extern "C" float batch1_w1_training_step(const float* x, const float* t) {
  return w1_trainer.step(w1_params, X16 = std::span<const float, 16>(x, 16), T1 = std::span<const float, 1>(t, 1));
}
// The large program that makes this translation unit large.
extern "C" float w2_training_step(const float* x, const std::int32_t* y) {
  return w2_trainer.step(w2_params, XW2 = std::span<const float, 64 * 784>(x, 64 * 784),
                         YW2 = std::span<const std::int32_t, 64>(y, 64));
}
