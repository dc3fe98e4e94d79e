// The pre-norm transformer block against PyTorch (tests/reference/attention.py):
// three SGD steps against
// torch.optim.SGD in float64 with odd sizes (N = 3, T = 5, two heads of width
// 4), and a torch TransformerEncoderLayer's state_dict loaded from
// safetensors by name and saved back.
#define BOOST_TEST_MODULE nn_transformer_block
#include "compile/support.hpp"

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string_view>

#include "reference/attention.inc"

namespace tl = tapeless;

namespace {

constexpr std::size_t N = reference::N, T = reference::T, E = reference::E, heads = reference::heads,
                      FF = reference::FF;
constexpr double tolerance = 1e-10;  // float64: only the order of sums differs from PyTorch
constexpr double fd_step = 1e-6, fd_tolerance = 1e-6;
constexpr auto X = tl::param<"X", double, N, T, E>;  // a param, so that its gradient is computed
constexpr auto V = tl::input<"V", double, N, T, E>;
constexpr tl::nn::attention_options causal{.causal = true};

#define TAPELESS_TEST_ATTENTION_PARAMS(store, r, prefix, torch_prefix)                               \
  test::fill(store.get<prefix "in_proj_weight">(), r::torch_prefix##in_proj_weight);                 \
  test::fill(store.get<prefix "in_proj_bias">(), r::torch_prefix##in_proj_bias);                     \
  test::fill(store.get<prefix "out_proj.weight">(), r::torch_prefix##out_proj_weight);               \
  test::fill(store.get<prefix "out_proj.bias">(), r::torch_prefix##out_proj_bias)

#define TAPELESS_TEST_ATTENTION_GRADIENTS(store, r, prefix, torch_prefix)                                            \
  test::check_close(prefix "in_proj_weight", store.grad<prefix "in_proj_weight">(),                                   \
                    r::grad_##torch_prefix##in_proj_weight, tolerance);                                               \
  test::check_close(prefix "in_proj_bias", store.grad<prefix "in_proj_bias">(), r::grad_##torch_prefix##in_proj_bias, \
                    tolerance);                                                                                       \
  test::check_close(prefix "out_proj.weight", store.grad<prefix "out_proj.weight">(),                                 \
                    r::grad_##torch_prefix##out_proj_weight, tolerance);                                              \
  test::check_close(prefix "out_proj.bias", store.grad<prefix "out_proj.bias">(),                                     \
                    r::grad_##torch_prefix##out_proj_bias, tolerance)

#define TAPELESS_TEST_BLOCK_REST(store, r, what)                           \
  what(store, r, "block.linear1.weight", linear1_weight);                 \
  what(store, r, "block.linear1.bias", linear1_bias);                     \
  what(store, r, "block.linear2.weight", linear2_weight);                 \
  what(store, r, "block.linear2.bias", linear2_bias);                     \
  what(store, r, "block.norm1.weight", norm1_weight);                     \
  what(store, r, "block.norm1.bias", norm1_bias);                         \
  what(store, r, "block.norm2.weight", norm2_weight);                     \
  what(store, r, "block.norm2.bias", norm2_bias)

#define TAPELESS_TEST_FILL(store, r, name, id) test::fill(store.get<name>(), r::id)
#define TAPELESS_TEST_GRADIENT(store, r, name, id) test::check_close(name, store.grad<name>(), r::grad_##id, tolerance)

// Outputs, loss and the input's gradient of a layer whose params are filled;
// central differences of every parameter (the input included).
template <class Out, class Store, class Values, class Output, class GradX>
void check_against_pytorch(const Out& outputs, Store& params, const Values& xs, const Values& v,
                           const Output& expected_output, double expected_loss, const GradX& grad_x) {
  test::fill(params.template get<"X">(), xs);
  tl::tensor<double, N, T, E> weights;
  test::fill(weights, v);

  auto forward = tl::compile(outputs);
  const auto& y = forward(params);
  test::check_close("outputs", y, expected_output, tolerance);
  for (double value : y) BOOST_TEST(std::isfinite(value));

  const auto loss = tl::sum(outputs * V);
  auto program = tl::compile(loss);
  test::check_close("loss", program.step(params, V = weights), expected_loss, tolerance);
  test::check_close("X", params.template grad<"X">(), grad_x, tolerance);
  Store copy = params;
  test::check_finite_differences(program, copy, fd_step, fd_tolerance, V = weights);
}

}  // namespace

BOOST_AUTO_TEST_CASE(transformer_encoder_layer_trains_as_torch_sgd) {
  namespace r = reference::training;
  constexpr auto In = tl::input<"In", double, N, T, E>;
  constexpr auto Y = tl::input<"Y", double, N, T, E>;
  constexpr auto loss = tl::mse(tl::nn::transformer_encoder_layer<"block", heads, FF, causal>(In), Y);
  auto params = tl::parameters_of(loss);
  TAPELESS_TEST_ATTENTION_PARAMS(params, r, "block.self_attn.", self_attn_);
  TAPELESS_TEST_BLOCK_REST(params, r, TAPELESS_TEST_FILL);
  tl::tensor<double, N, T, E> xs, ys;
  test::fill(xs, r::X);
  test::fill(ys, r::Y);
  auto program = tl::compile(loss);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.125f});  // 1/8: exact in float, as torch's lr
  for (std::size_t k = 0; k < 3; ++k) {
    test::check_close("loss", program.step(params, In = xs, Y = ys), r::losses[k], tolerance);
    opt.step(params);
  }
  test::check_close("in_proj_weight", params.get<"block.self_attn.in_proj_weight">(),
                    r::trained_self_attn_in_proj_weight, tolerance);
  test::check_close("in_proj_bias", params.get<"block.self_attn.in_proj_bias">(), r::trained_self_attn_in_proj_bias,
                    tolerance);
  test::check_close("out_proj.weight", params.get<"block.self_attn.out_proj.weight">(),
                    r::trained_self_attn_out_proj_weight, tolerance);
  test::check_close("out_proj.bias", params.get<"block.self_attn.out_proj.bias">(),
                    r::trained_self_attn_out_proj_bias, tolerance);
  test::check_close("linear1.weight", params.get<"block.linear1.weight">(), r::trained_linear1_weight, tolerance);
  test::check_close("linear1.bias", params.get<"block.linear1.bias">(), r::trained_linear1_bias, tolerance);
  test::check_close("linear2.weight", params.get<"block.linear2.weight">(), r::trained_linear2_weight, tolerance);
  test::check_close("linear2.bias", params.get<"block.linear2.bias">(), r::trained_linear2_bias, tolerance);
  test::check_close("norm1.weight", params.get<"block.norm1.weight">(), r::trained_norm1_weight, tolerance);
  test::check_close("norm2.bias", params.get<"block.norm2.bias">(), r::trained_norm2_bias, tolerance);
}

BOOST_AUTO_TEST_CASE(transformer_encoder_layer_loads_a_pytorch_state_dict_and_saves_it_back) {
  namespace r = reference::block_file;
  constexpr auto S = tl::input<"S", float, N, T, E>;
  constexpr auto outputs = tl::nn::transformer_encoder_layer<"block", heads, FF, causal>(S);
  auto params = tl::parameters_of(outputs);
  const auto source = std::filesystem::path(TAPELESS_TEST_SOURCE_DIR) / "tests/reference/attention_block.safetensors";
  tl::io::load(params, source);
  tl::tensor<float, N, T, E> xs;
  test::fill(xs, r::X);
  auto forward = tl::compile(outputs);
  test::check_close("outputs", forward(params, S = xs), r::output, 1e-5);

  // Saved and loaded again: the same names, shapes and values.
  const auto saved = std::filesystem::temp_directory_path() / "tapeless_nn_attention_block.safetensors";
  tl::io::save(params, saved);
  auto reloaded = tl::parameters_of(outputs);
  tl::io::load(reloaded, saved);
  std::filesystem::remove(saved);
  std::size_t compared = 0;
  params.visit([&](std::string_view name, auto& value, auto&) {
    reloaded.visit([&](std::string_view other, auto& again, auto&) {
      if (other != name) return;
      ++compared;
      for (std::size_t i = 0; i < value.size(); ++i) BOOST_TEST(again[i] == value[i]);
    });
  });
  BOOST_TEST(compared == 12u);
}
