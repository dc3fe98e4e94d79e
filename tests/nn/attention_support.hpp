#pragma once
// What the attention and transformer-block tests share: the sizes and inputs of
// tests/reference/attention.inc and the checks made of a program. Included
// after BOOST_TEST_MODULE is defined.
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
