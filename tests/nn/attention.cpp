// Multi-head attention and the pre-norm transformer block against PyTorch
// (tests/reference/attention.py): outputs, and the gradient of
// sum(outputs * V) with respect to every parameter and to the input, in
// float64 with odd sizes (N = 3, T = 5, two heads of width 4), causal and
// not; central differences as a second check. The block's training steps and
// its state_dict are in transformer_block.cpp (one translation unit each, to
// keep their compile time and memory apart).
#define BOOST_TEST_MODULE nn_attention
#include "attention_support.hpp"

BOOST_AUTO_TEST_CASE(multihead_attention_outputs_and_gradients_match_pytorch) {
  namespace r = reference::attention;
  constexpr auto outputs = tl::nn::multihead_attention<"attn", heads>(X);
  static_assert(std::is_same_v<tl::shape_of<decltype(outputs)>, tl::shape<N, T, E>>);
  auto params = tl::parameters_of(tl::sum(outputs));
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(params.get<"attn.in_proj_weight">())>,
                               tl::tensor<double, 3 * E, E>>);
  TAPELESS_TEST_ATTENTION_PARAMS(params, r, "attn.", );
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_ATTENTION_GRADIENTS(params, r, "attn.", );
}

BOOST_AUTO_TEST_CASE(causal_multihead_attention_outputs_and_gradients_match_pytorch) {
  namespace r = reference::causal_attention;
  constexpr auto outputs = tl::nn::multihead_attention<"attn", heads, causal>(X);
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_ATTENTION_PARAMS(params, r, "attn.", );
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_ATTENTION_GRADIENTS(params, r, "attn.", );
}

BOOST_AUTO_TEST_CASE(causal_attention_output_at_a_step_ignores_later_steps) {
  // The first query sees only itself: changing the last step leaves output step 0 as it was.
  constexpr auto S = tl::input<"S", float, 1, T, E>;
  constexpr auto outputs = tl::nn::multihead_attention<"attn", heads, causal>(S);
  auto params = tl::parameters_of(outputs);
  tl::init::xavier_uniform(params, 3);
  tl::tensor<float, 1, T, E> xs;
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = std::sin(0.7f * static_cast<float>(i));
  auto forward = tl::compile(outputs);
  const auto before = forward(params, S = xs);
  for (std::size_t e = 0; e < E; ++e) xs(0, T - 1, e) += 3.0f;
  const auto& after = forward(params, S = xs);
  for (std::size_t t = 0; t + 1 < T; ++t)
    for (std::size_t e = 0; e < E; ++e) BOOST_TEST(after(0, t, e) == before(0, t, e));
  bool last_changed = false;
  for (std::size_t e = 0; e < E; ++e) last_changed = last_changed || after(0, T - 1, e) != before(0, T - 1, e);
  BOOST_TEST(last_changed);
}

BOOST_AUTO_TEST_CASE(transformer_encoder_layer_outputs_and_gradients_match_pytorch) {
  namespace r = reference::block;
  constexpr auto outputs = tl::nn::transformer_encoder_layer<"block", heads, FF, causal>(X);
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_ATTENTION_PARAMS(params, r, "block.self_attn.", self_attn_);
  TAPELESS_TEST_BLOCK_REST(params, r, TAPELESS_TEST_FILL);
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_ATTENTION_GRADIENTS(params, r, "block.self_attn.", self_attn_);
  TAPELESS_TEST_BLOCK_REST(params, r, TAPELESS_TEST_GRADIENT);
}


BOOST_AUTO_TEST_CASE(xavier_uniform_starts_attention_as_torch_does) {
  // torch: in_proj_weight xavier_uniform_ (fan_in E, fan_out 3E), every bias 0, norm scales 1.
  constexpr auto S = tl::input<"S", float, N, T, E>;
  auto params = tl::parameters_of(tl::nn::transformer_encoder_layer<"block", heads, FF, causal>(S));
  tl::init::xavier_uniform(params, 5);
  const double bound = std::sqrt(6.0 / (E + 3 * E));
  double largest = 0;
  for (float w : params.get<"block.self_attn.in_proj_weight">()) {
    BOOST_TEST(std::abs(w) <= bound);
    largest = std::max(largest, double(std::abs(w)));
  }
  BOOST_TEST(largest > 0.9 * bound);  // 192 draws: the largest is near the bound
  for (float b : params.get<"block.self_attn.in_proj_bias">()) BOOST_TEST(b == 0.0f);
  for (float b : params.get<"block.self_attn.out_proj.bias">()) BOOST_TEST(b == 0.0f);
  for (float b : params.get<"block.linear1.bias">()) BOOST_TEST(b == 0.0f);
  for (float w : params.get<"block.norm1.weight">()) BOOST_TEST(w == 1.0f);
  for (float w : params.get<"block.norm2.bias">()) BOOST_TEST(w == 0.0f);
}
