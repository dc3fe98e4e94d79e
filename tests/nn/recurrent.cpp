// The recurrent layers against PyTorch (tests/reference/sequences.py):
// outputs, and the gradient of sum(outputs * V) with respect to every
// parameter and to the input sequence, in float64 with odd sizes; central
// differences as a second check; a GRU loaded from a torch state_dict saved
// as safetensors.
#define BOOST_TEST_MODULE nn_recurrent
#include "compile/support.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "reference/sequences.inc"

namespace tl = tapeless;

namespace {

constexpr std::size_t N = reference::N, T = reference::T, F = reference::F, H = reference::H;
constexpr double tolerance = 1e-10;  // float64: only the order of sums differs from PyTorch
constexpr double fd_step = 1e-6, fd_tolerance = 1e-6;
constexpr auto X = tl::param<"X", double, N, T, F>;  // a param, so that its gradient is computed

#define TAPELESS_TEST_LAYER_PARAMS(store, r, prefix)                                               \
  test::fill(store.get<#prefix ".weight_ih_l0">(), r::prefix##_weight_ih_l0);                      \
  test::fill(store.get<#prefix ".weight_hh_l0">(), r::prefix##_weight_hh_l0);                      \
  test::fill(store.get<#prefix ".bias_ih_l0">(), r::prefix##_bias_ih_l0);                          \
  test::fill(store.get<#prefix ".bias_hh_l0">(), r::prefix##_bias_hh_l0)

#define TAPELESS_TEST_LAYER_GRADIENTS(store, r, prefix)                                                       \
  test::check_close(#prefix ".weight_ih_l0", store.grad<#prefix ".weight_ih_l0">(), r::grad_##prefix##_weight_ih_l0, \
                    tolerance);                                                                               \
  test::check_close(#prefix ".weight_hh_l0", store.grad<#prefix ".weight_hh_l0">(), r::grad_##prefix##_weight_hh_l0, \
                    tolerance);                                                                               \
  test::check_close(#prefix ".bias_ih_l0", store.grad<#prefix ".bias_ih_l0">(), r::grad_##prefix##_bias_ih_l0,       \
                    tolerance);                                                                               \
  test::check_close(#prefix ".bias_hh_l0", store.grad<#prefix ".bias_hh_l0">(), r::grad_##prefix##_bias_hh_l0,       \
                    tolerance)

// Outputs, loss and the input's gradient of a layer whose params are filled.
template <class Out, class Store, class Values, class Weights, class Output, class GradX>
void check_against_pytorch(const Out& outputs, Store& params, const Values& xs, const Weights& v,
                           const Output& expected_output, double expected_loss, const GradX& grad_x) {
  constexpr auto V = tl::input<"V", double, N, T, tl::shape_of<Out>::dims[2]>;
  test::fill(params.template get<"X">(), xs);
  tl::tensor<double, N, T, tl::shape_of<Out>::dims[2]> weights;
  test::fill(weights, v);

  auto forward = tl::compile(outputs);
  test::check_close("outputs", forward(params), expected_output, tolerance);

  const auto loss = tl::sum(outputs * V);
  auto program = tl::compile(loss);
  test::check_close("loss", program.step(params, V = weights), expected_loss, tolerance);
  test::check_close("X", params.template grad<"X">(), grad_x, tolerance);
  Store copy = params;
  test::check_finite_differences(program, copy, fd_step, fd_tolerance, V = weights);
}

}  // namespace

BOOST_AUTO_TEST_CASE(rnn_outputs_and_gradients_match_pytorch) {
  namespace r = reference::rnn;
  constexpr auto outputs = tl::nn::rnn<"rnn", H>(X);
  static_assert(std::is_same_v<tl::shape_of<decltype(outputs)>, tl::shape<N, T, H>>);
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_LAYER_PARAMS(params, r, rnn);
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, rnn);
}

BOOST_AUTO_TEST_CASE(gru_outputs_and_gradients_match_pytorch) {
  namespace r = reference::gru;
  constexpr auto outputs = tl::nn::gru<"gru", H>(X);
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_LAYER_PARAMS(params, r, gru);
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, gru);
}

BOOST_AUTO_TEST_CASE(lstm_outputs_and_gradients_match_pytorch) {
  namespace r = reference::lstm;
  constexpr auto outputs = tl::nn::lstm<"lstm", H>(X);
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_LAYER_PARAMS(params, r, lstm);
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, lstm);
}

BOOST_AUTO_TEST_CASE(stacked_lstm_and_gru_match_pytorch) {
  namespace r = reference::stacked;
  constexpr auto outputs = tl::nn::gru<"gru", 3>(tl::nn::lstm<"lstm", H>(X));
  auto params = tl::parameters_of(tl::sum(outputs));
  TAPELESS_TEST_LAYER_PARAMS(params, r, lstm);
  TAPELESS_TEST_LAYER_PARAMS(params, r, gru);
  check_against_pytorch(outputs, params, r::X, r::V, r::output, r::loss, r::grad_X);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, lstm);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, gru);
}

BOOST_AUTO_TEST_CASE(gru_loads_a_pytorch_state_dict_and_saves_it_back) {
  namespace r = reference::gru_file;
  constexpr auto S = tl::input<"S", float, N, T, F>;
  constexpr auto outputs = tl::nn::gru<"gru", H>(S);
  auto params = tl::parameters_of(outputs);
  const auto source = std::filesystem::path(TAPELESS_TEST_SOURCE_DIR) / "tests/reference/sequences_gru.safetensors";
  tl::io::load(params, source);
  tl::tensor<float, N, T, F> xs;
  test::fill(xs, r::X);
  auto forward = tl::compile(outputs);
  test::check_close("outputs", forward(params, S = xs), r::output, 1e-5);

  // Saved and loaded again: the same names, shapes and values.
  const auto saved = std::filesystem::temp_directory_path() / "tapeless_nn_recurrent_gru.safetensors";
  tl::io::save(params, saved);
  auto reloaded = tl::parameters_of(outputs);
  tl::io::load(reloaded, saved);
  std::filesystem::remove(saved);
  params.visit([&](std::string_view name, auto& value, auto&) {
    reloaded.visit([&](std::string_view other, auto& again, auto&) {
      if (other != name) return;
      for (std::size_t i = 0; i < value.size(); ++i) BOOST_TEST(again[i] == value[i]);
    });
  });
}

BOOST_AUTO_TEST_CASE(embedding_into_a_gru_matches_pytorch) {
  namespace r = reference::embedded;
  constexpr auto ids = tl::input<"ids", std::int32_t, N, T>;
  constexpr auto V = tl::input<"V", double, N, T, H>;
  constexpr auto outputs = tl::nn::gru<"gru", H>(tl::nn::embedding<"emb", 7, F, double>(ids));
  constexpr auto loss = tl::sum(outputs * V);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"emb.weight">(), r::emb_weight);
  TAPELESS_TEST_LAYER_PARAMS(params, r, gru);
  tl::tensor<std::int32_t, N, T> id_values;
  for (std::size_t i = 0; i < id_values.size(); ++i) id_values[i] = r::ids[i];
  tl::tensor<double, N, T, H> weights;
  test::fill(weights, r::V);

  auto forward = tl::compile(outputs);
  test::check_close("outputs", forward(params, ids = id_values), r::output, tolerance);
  auto program = tl::compile(loss);
  test::check_close("loss", program.step(params, ids = id_values, V = weights), r::loss, tolerance);
  test::check_close("emb.weight", params.grad<"emb.weight">(), r::grad_emb_weight, tolerance);
  TAPELESS_TEST_LAYER_GRADIENTS(params, r, gru);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, ids = id_values, V = weights);
}

BOOST_AUTO_TEST_CASE(embedding_of_an_id_out_of_range_changes_nothing_and_says_which) {
  constexpr auto ids = tl::input<"ids", std::int32_t, 4>;
  constexpr auto loss = tl::sum(tl::square(tl::nn::embedding<"emb", 5, 2>(ids)));
  auto params = tl::parameters_of(loss);
  params.get<"emb.weight">().fill(1.0f);
  params.grad<"emb.weight">().fill(7.0f);
  auto program = tl::compile(loss);
  tl::tensor<std::int32_t, 4> bad;
  test::fill(bad, {1, 4, 5, 0});
  BOOST_TEST(std::isnan(program.step(params, ids = bad)));
  BOOST_TEST(tl::to_string(program.last_error()) == "input \"ids\": class id 5 in row 2 is outside [0, 5)");
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(params.grad<"emb.weight">()[i] == 7.0f);

  // Ids in range: each row's gradient is 2 * its value times the times it was used.
  tl::tensor<std::int32_t, 4> good;
  test::fill(good, {1, 4, 1, 0});
  BOOST_TEST(program.step(params, ids = good) == 8.0f);
  const float expected[] = {2, 2, 4, 4, 0, 0, 0, 0, 2, 2};
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(params.grad<"emb.weight">()[i] == expected[i]);
}
