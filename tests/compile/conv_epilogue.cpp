// A convolution runs its consumer's elementwise loop as its epilogue, image by
// image (compile/kernels/conv2d.hpp): in a forward-only program, the bias,
// batch norm with its running statistics and the activation cost no pass of
// their own, and a max or average pooling after them runs there too, image by
// image. In a training step, max pooling's backward pass runs its consumer's
// loop (the derivative of what was pooled) the same way. Values against
// PyTorch (tests/reference/conv_epilogue.py), and the plans say the loop
// (and the pooling) was fused.
#define BOOST_TEST_MODULE compile_conv_epilogue
#include "support.hpp"

#include "../reference/conv_epilogue.inc"

namespace tl = tapeless;

namespace {
constexpr double tolerance = 1e-12;

// Does some kernel of schedule S run the convolution node as its epilogue's producer?
template <class S>
bool runs_a_convolution_with_an_epilogue() {
  for (std::size_t k = 0; k < S::plan.kernel_count; ++k) {
    const int e = S::plan.epilogue_of[static_cast<std::size_t>(S::plan.schedule[k])];
    if (e >= 0 && S::graph.nodes[static_cast<std::size_t>(e)].scratch_bytes > 0) return true;
  }
  return false;
}

// Batch norm "bn"'s running statistics, weight and bias from a reference.
template <class Store, std::size_t C>
void fill_batch_norm(Store& params, const double (&mean)[C], const double (&var)[C], const double (&weight)[C],
                     const double (&bias)[C]) {
  test::fill(params.template get<"bn.running_mean">(), mean);
  test::fill(params.template get<"bn.running_var">(), var);
  test::fill(params.template get<"bn.weight">(), weight);
  test::fill(params.template get<"bn.bias">(), bias);
}

// Does the convolution of schedule S (the node whose kernel takes an
// epilogue) read weights computed in the call: batch norm folded into them
// (compile/batch_norm_folding.hpp)?
template <class S>
bool convolution_reads_folded_weights() {
  for (std::size_t i = 0; i < S::graph.nodes.size(); ++i)
    if (S::graph.nodes[i].takes_epilogue && S::graph.nodes[i].scratch_bytes > 0)
      return !S::graph.nodes[static_cast<std::size_t>(S::graph.operand(i, 1))].leaf;
  return false;
}
}  // namespace

BOOST_AUTO_TEST_CASE(batch_norm_in_eval_and_relu_run_in_the_convolutions_epilogue_as_pytorch_eval) {
  namespace r = reference::conv_bn_relu;
  constexpr auto X = tl::input<"X", double, 3, 5, 9, 7>;
  constexpr auto y = tl::relu(
      tl::nn::batch_norm2d<"bn">(tl::nn::conv2d<"conv", 4, 3, tl::nn::conv_options{.stride = 2, .padding = 1}>(X)));
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(runs_a_convolution_with_an_epilogue<S>());
  // Batch norm reads its running statistics (kernel_form.hpp's forward_form),
  // so the convolution's output has one reader and is never stored: the
  // scale gamma / sqrt(var + eps) per channel, then the convolution with the
  // bias, normalization and ReLU as its epilogue. 240 output elements for
  // 180 weights: folding batch norm into the weights would not pay.
  BOOST_TEST(!convolution_reads_folded_weights<S>());
  BOOST_TEST(S::plan.kernel_count == 2u);
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  fill_batch_norm(params, r::running_mean, r::running_var, r::bn_weight, r::bn_bias);
  tl::tensor<double, 3, 5, 9, 7> x;
  test::fill(x, r::x);
  test::check_close("y", predict(params, X = x), r::y, tolerance);
  // A second call from the same buffers gives the same values (nothing left behind in the scratch).
  test::check_close("y again", predict(params, X = x), r::y, tolerance);
}

BOOST_AUTO_TEST_CASE(an_epilogue_reading_an_operand_along_the_width_runs_row_by_row_as_pytorch) {
  namespace r = reference::conv_tanh_row;
  constexpr auto X = tl::input<"X", double, 2, 3, 6, 5>;
  constexpr auto R = tl::input<"R", double, 5>;
  constexpr auto y = tl::tanh(tl::nn::conv2d<"conv", 6, 3, tl::nn::conv_options{.padding = 1}>(X)) * R;
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(runs_a_convolution_with_an_epilogue<S>());
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  tl::tensor<double, 2, 3, 6, 5> x;
  tl::tensor<double, 5> row;
  test::fill(x, r::x);
  test::fill(row, r::r);
  test::check_close("y", predict(params, X = x, R = row), r::y, tolerance);
}

BOOST_AUTO_TEST_CASE(a_depthwise_convolution_runs_its_epilogue_after_the_direct_kernel_as_pytorch) {
  namespace r = reference::depthwise_sigmoid;
  constexpr auto X = tl::input<"X", double, 2, 6, 9, 8>;
  constexpr auto Shift = tl::input<"Shift", double, 6, 1, 1>;
  constexpr auto y = tl::sigmoid(
      tl::nn::conv2d<"dw", 6, 3, tl::nn::conv_options{.stride = 2, .padding = 1, .groups = 6}>(X) + Shift);
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(runs_a_convolution_with_an_epilogue<S>());
  auto params = tl::parameters_of(y);
  test::fill(params.get<"dw.weight">(), r::weight);
  test::fill(params.get<"dw.bias">(), r::bias);
  tl::tensor<double, 2, 6, 9, 8> x;
  tl::tensor<double, 6, 1, 1> shift;
  test::fill(x, r::x);
  test::fill(shift, r::shift);
  test::check_close("y", predict(params, X = x, Shift = shift), r::y, tolerance);
}

// Does some kernel of schedule S run a convolution, its epilogue loop and a
// pooling of it (the loop's result stored or not, as asked)?
template <class S>
bool pools_in_a_convolutions_kernel(bool stored) {
  for (std::size_t k = 0; k < S::plan.kernel_count; ++k) {
    const auto i = static_cast<std::size_t>(S::plan.schedule[k]);
    if (S::plan.pooled_by[i] >= 0 && S::plan.epilogue_of[i] >= 0 && S::plan.unstored[i] == !stored) return true;
  }
  return false;
}

BOOST_AUTO_TEST_CASE(max_pooling_after_batch_norm_and_relu_runs_in_the_convolutions_kernel_as_pytorch_eval) {
  namespace r = reference::conv_bn_relu_max_pool;
  constexpr auto X = tl::input<"X", double, 3, 5, 11, 9>;
  constexpr auto y = tl::max_pool2d<3, 2, 1>(
      tl::relu(tl::nn::batch_norm2d<"bn">(tl::nn::conv2d<"conv", 4, 3, tl::nn::conv_options{.padding = 1}>(X))));
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(pools_in_a_convolutions_kernel<S>(false));
  // 1188 output elements for 180 weights: batch norm folds into the
  // convolution's weights and bias. The other kernels compute the scale
  // gamma / sqrt(var + eps), the weights times it and the new bias per
  // channel; the convolution, its bias, ReLU and the pooling are one.
  BOOST_TEST(convolution_reads_folded_weights<S>());
  BOOST_TEST(S::plan.kernel_count == 4u);
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  fill_batch_norm(params, r::running_mean, r::running_var, r::bn_weight, r::bn_bias);
  tl::tensor<double, 3, 5, 11, 9> x;
  test::fill(x, r::x);
  test::check_close("y", predict(params, X = x), r::y, tolerance);
  test::check_close("y again", predict(params, X = x), r::y, tolerance);
}

BOOST_AUTO_TEST_CASE(average_pooling_of_a_row_by_row_epilogue_runs_in_the_convolutions_kernel_as_pytorch) {
  namespace r = reference::conv_tanh_row_avg_pool;
  constexpr auto X = tl::input<"X", double, 2, 3, 6, 5>;
  constexpr auto R = tl::input<"R", double, 5>;
  constexpr auto y = tl::avg_pool2d<2>(tl::tanh(tl::nn::conv2d<"conv", 6, 3, tl::nn::conv_options{.padding = 1}>(X)) * R);
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(pools_in_a_convolutions_kernel<S>(false));
  BOOST_TEST(S::plan.kernel_count == 1u);
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  tl::tensor<double, 2, 3, 6, 5> x;
  tl::tensor<double, 5> row;
  test::fill(x, r::x);
  test::fill(row, r::r);
  test::check_close("y", predict(params, X = x, R = row), r::y, tolerance);
}

BOOST_AUTO_TEST_CASE(a_pooled_loop_read_elsewhere_is_stored_and_pooled_in_the_same_kernel_as_pytorch) {
  // relu(conv) read by the pooling and by a sum: stored, and pooled where it was just written
  // (as in a training step, whose ReLU derivative reads it).
  namespace r = reference::conv_relu_pool_and_sum;
  constexpr auto X = tl::input<"X", double, 2, 3, 6, 6>;
  constexpr auto h = tl::relu(tl::nn::conv2d<"conv", 4, 3, tl::nn::conv_options{.padding = 1}>(X));
  constexpr auto y = tl::sum(tl::max_pool2d<2>(h)) + tl::sum(h);
  auto program = tl::compile(y);
  using S = decltype(program)::forward_schedule;
  BOOST_TEST(pools_in_a_convolutions_kernel<S>(true));
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  tl::tensor<double, 2, 3, 6, 6> x;
  test::fill(x, r::x);
  BOOST_TEST(std::abs(program(params, X = x) - r::y[0]) < tolerance * std::abs(r::y[0]));
}

BOOST_AUTO_TEST_CASE(batch_norm_folds_into_a_convolution_without_a_bias_as_pytorch_eval) {
  namespace r = reference::conv_no_bias_bn_relu;
  constexpr auto X = tl::input<"X", double, 2, 3, 10, 9>;
  constexpr auto y = tl::relu(
      tl::nn::batch_norm2d<"bn">(tl::nn::conv2d<"conv", 8, 3, tl::nn::conv_options{.padding = 1, .bias = false}>(X)));
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  BOOST_TEST(convolution_reads_folded_weights<S>());
  BOOST_TEST(runs_a_convolution_with_an_epilogue<S>());
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  fill_batch_norm(params, r::running_mean, r::running_var, r::bn_weight, r::bn_bias);
  tl::tensor<double, 2, 3, 10, 9> x;
  test::fill(x, r::x);
  test::check_close("y", predict(params, X = x), r::y, tolerance);
  // The weights are folded afresh by every call: new running statistics are read.
  for (double& v : params.get<"bn.running_var">()) v *= 4;
  test::check_close("y, the running variance times 4", predict(params, X = x), r::y_var_times_4, tolerance);
}

BOOST_AUTO_TEST_CASE(a_convolution_also_read_outside_batch_norm_is_not_folded_and_matches_pytorch_eval) {
  namespace r = reference::conv_bn_relu_plus_conv;
  constexpr auto X = tl::input<"X", double, 2, 3, 10, 9>;
  constexpr auto c = tl::nn::conv2d<"conv", 8, 3, tl::nn::conv_options{.padding = 1}>(X);
  constexpr auto y = tl::relu(tl::nn::batch_norm2d<"bn">(c)) + c;
  auto predict = tl::compile(y);
  using S = decltype(predict)::forward_schedule;
  // Folded, the convolution would run twice (with the folded weights and without).
  BOOST_TEST(!convolution_reads_folded_weights<S>());
  auto params = tl::parameters_of(y);
  test::fill(params.get<"conv.weight">(), r::weight);
  test::fill(params.get<"conv.bias">(), r::bias);
  fill_batch_norm(params, r::running_mean, r::running_var, r::bn_weight, r::bn_bias);
  tl::tensor<double, 2, 3, 10, 9> x;
  test::fill(x, r::x);
  test::check_close("y", predict(params, X = x), r::y, tolerance);
}

namespace {
// Does a kernel of schedule S run a pooling's backward pass with its consumer's loop as its epilogue?
template <class S>
bool runs_a_pooling_gradient_with_an_epilogue() {
  for (std::size_t k = 0; k < S::plan.kernel_count; ++k) {
    const int e = S::plan.epilogue_of[static_cast<std::size_t>(S::plan.schedule[k])];
    if (e >= 0 && S::graph.nodes[static_cast<std::size_t>(e)].takes_epilogue &&
        S::graph.nodes[static_cast<std::size_t>(e)].scratch_bytes > 0 &&
        !S::graph.nodes[static_cast<std::size_t>(e)].epilogue_by_image)
      return true;
  }
  return false;
}

// A loss of pooled values, its param "P" filled from p: the pooling's
// gradient runs its consumer's loop, and two steps from the same buffers
// give PyTorch's loss and dL/dP (the scratch is written afresh by each).
template <class Loss, std::size_t N, class... Bindings>
void check_pooling_gradient_in_its_kernel(const Loss& loss, const double (&p)[N], double expected_loss,
                                          const double (&grad_p)[N], const Bindings&... bindings) {
  auto program = tl::compile(loss);
  using S = typename decltype(program)::training_schedule;
  BOOST_TEST(runs_a_pooling_gradient_with_an_epilogue<S>());
  auto params = tl::parameters_of(loss);
  test::fill(params.template get<"P">(), p);
  for (int step = 0; step < 2; ++step) {
    test::check_close("loss", program.step(params, bindings...), expected_loss, tolerance);
    test::check_close("dP", params.template grad<"P">(), grad_p, tolerance);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(max_pooling_backward_runs_the_derivatives_loop_over_planes_as_pytorch) {
  namespace r = reference::pool_backward_tanh;
  constexpr auto P = tl::param<"P", double, 3, 5, 8, 6>;
  constexpr auto B = tl::input<"B", double, 3, 5, 4, 3>;
  constexpr auto loss = tl::sum(tl::max_pool2d<2>(tl::tanh(P)) * B);
  tl::tensor<double, 3, 5, 4, 3> b;
  test::fill(b, r::B);
  check_pooling_gradient_in_its_kernel(loss, r::P, r::loss[0], r::grad_P, B = b);
}

BOOST_AUTO_TEST_CASE(max_pooling_backward_with_overlapping_windows_runs_a_row_by_row_loop_as_pytorch) {
  namespace r = reference::pool_backward_row;
  constexpr auto P = tl::param<"P", double, 2, 3, 9, 7>;
  constexpr auto R = tl::input<"R", double, 7>;
  constexpr auto B = tl::input<"B", double, 2, 3, 5, 4>;
  constexpr auto loss = tl::sum(tl::max_pool2d<3, 2, 1>(tl::tanh(P) * R) * B);
  tl::tensor<double, 7> row;
  tl::tensor<double, 2, 3, 5, 4> b;
  test::fill(row, r::r);
  test::fill(b, r::B);
  check_pooling_gradient_in_its_kernel(loss, r::P, r::loss[0], r::grad_P, R = row, B = b);
}

BOOST_AUTO_TEST_CASE(average_pooling_backward_runs_the_derivatives_loop_as_pytorch) {
  namespace r = reference::avg_pool_backward_sigmoid;
  constexpr auto P = tl::param<"P", double, 2, 3, 9, 7>;
  constexpr auto B = tl::input<"B", double, 2, 3, 5, 4>;
  constexpr auto loss = tl::sum(tl::avg_pool2d<3, 2, 1>(tl::sigmoid(P)) * B);
  tl::tensor<double, 2, 3, 5, 4> b;
  test::fill(b, r::B);
  check_pooling_gradient_in_its_kernel(loss, r::P, r::loss[0], r::grad_P, B = b);
}
