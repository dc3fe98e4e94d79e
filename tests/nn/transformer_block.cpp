// The pre-norm transformer block against PyTorch (tests/reference/attention.py):
// three SGD steps against
// torch.optim.SGD in float64 with odd sizes (N = 3, T = 5, two heads of width
// 4), and a torch TransformerEncoderLayer's state_dict loaded from
// safetensors by name and saved back.
#define BOOST_TEST_MODULE nn_transformer_block
#include "attention_support.hpp"

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

// The fast path on a transformer block (float): tl::compile(loss, rule) updates
// the weights inside their gradient GEMMs; it must step as the program and the
// optimizer do separately. Three steps of SGD (the rule whose update runs in
// an epilogue), with momentum, and with Nesterov momentum and weight decay.
constexpr auto fused_in = tl::input<"In", float, N, T, E>;
constexpr auto fused_y = tl::input<"Y", float, N, T, E>;
constexpr auto fused_loss = tl::mse(tl::nn::transformer_encoder_layer<"block", heads, FF, causal>(fused_in), fused_y);

auto filled_block_parameters() {
  namespace r = reference::training;
  auto params = tl::parameters_of(fused_loss);
  TAPELESS_TEST_ATTENTION_PARAMS(params, r, "block.self_attn.", self_attn_);
  TAPELESS_TEST_BLOCK_REST(params, r, TAPELESS_TEST_FILL);
  return params;
}

template <class Rule>
void check_fused_trainer_steps_as_program_and_optimizer(const Rule& rule) {
  namespace r = reference::training;
  constexpr auto In = fused_in;
  constexpr auto Y = fused_y;
  constexpr auto loss = fused_loss;
  auto fused = filled_block_parameters();
  auto separate = fused;
  tl::tensor<float, N, T, E> xs, ys;
  test::fill(xs, r::X);
  test::fill(ys, r::Y);

  auto trainer = tl::compile(loss, rule);
  using trainer_type = decltype(trainer);
  // At least one update runs in a GEMM's epilogue, or this tests nothing fused.
  constexpr bool some_fused = []<std::size_t... I>(std::index_sequence<I...>) {
    return (trainer_type::template updates_in_gemm<I> || ...);
  }(std::make_index_sequence<12>{});
  static_assert(some_fused, "the transformer block's trainer fuses no update");
  auto program = tl::compile(loss);
  auto opt = tl::optim::optimizer(separate, rule);
  for (std::size_t k = 0; k < 3; ++k) {
    const float lf = trainer.step(fused, In = xs, Y = ys);
    const float ls = program.step(separate, In = xs, Y = ys);
    opt.step(separate);
    BOOST_TEST(std::isfinite(lf));
    BOOST_TEST(std::abs(lf - ls) <= 1e-5f * std::abs(ls), "step " << k << ": " << lf << " vs " << ls);
  }
  std::size_t compared = 0;
  fused.visit([&](std::string_view name, const auto& value, const auto&) {
    separate.visit([&](std::string_view other, const auto& expected, const auto&) {
      if (name != other) return;
      ++compared;
      for (std::size_t i = 0; i < value.size(); ++i)
        BOOST_TEST(std::abs(value[i] - expected[i]) <= 1e-5f * std::max(1.f, std::abs(expected[i])),
                   std::string(name) << "[" << i << "]: " << value[i] << " vs " << expected[i]);
    });
  });
  BOOST_TEST(compared == 12u);
}

BOOST_AUTO_TEST_CASE(transformer_encoder_layer_fused_sgd_trainer_steps_as_program_and_optimizer) {
  check_fused_trainer_steps_as_program_and_optimizer(tl::optim::sgd{.lr = 0.125f, .momentum = 0.9f});
  check_fused_trainer_steps_as_program_and_optimizer(
      tl::optim::sgd{.lr = 0.0625f, .momentum = 0.5f, .weight_decay = 0.01f, .nesterov = true});
}
