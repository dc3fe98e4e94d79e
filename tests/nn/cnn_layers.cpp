// The convolutional layers against PyTorch (tests/reference/cnn_layers.py):
// conv2d's names and layout, layer_norm, batch_norm2d/1d over several
// training steps (loss and gradients each step, then the running statistics
// and the eval output), buffers left alone by initializers and optimizers,
// and a torch model of the same layers read from its safetensors file.
#define BOOST_TEST_MODULE nn_cnn_layers
#include "../compile/support.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>

#include "../reference/cnn_layers.inc"
#include "../reference/cnn_model.inc"
#include "../reference/layer_norm_fused.inc"

namespace tl = tapeless;
namespace fs = std::filesystem;

namespace {
constexpr double tolerance = 1e-11;
}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_layer_has_pytorch_names_and_layout_and_matches_pytorch) {
  namespace r = reference::conv2d_stride_padding;
  constexpr auto P = tl::param<"P", double, 3, 5, 9, 7>;
  constexpr auto B = tl::input<"B", double, 3, 4, 5, 4>;
  constexpr auto y = tl::nn::conv2d<"conv1", 4, 3, tl::nn::conv_options{.stride = 2, .padding = 1}>(P);
  static_assert(std::is_same_v<tl::shape_of<decltype(y)>, tl::shape<3, 4, 5, 4>>);
  constexpr auto loss = tl::sum(y * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(params.get<"conv1.weight">())>, tl::tensor<double, 4, 5, 3, 3>>);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(params.get<"conv1.bias">())>, tl::tensor<double, 4>>);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"conv1.weight">(), r::W);
  test::fill(params.get<"conv1.bias">(), r::C);
  tl::tensor<double, 3, 4, 5, 4> b;
  test::fill(b, r::B);
  test::check_close("loss", program.step(params, B = b), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_close("dweight", params.grad<"conv1.weight">(), r::grad_W, tolerance);
  test::check_close("dbias", params.grad<"conv1.bias">(), r::grad_C, tolerance);
  test::check_finite_differences(program, params, 1e-6, 1e-6, B = b);
}

BOOST_AUTO_TEST_CASE(depthwise_conv2d_layer_without_bias_has_one_input_channel_per_filter) {
  constexpr auto X = tl::input<"X", float, 2, 6, 5, 5>;
  constexpr auto y = tl::nn::conv2d<"dw", 6, 3, tl::nn::conv_options{.padding = 1, .groups = 6, .bias = false}>(X);
  auto params = tl::parameters_of(y);
  static_assert(decltype(params)::count == 1);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(params.get<"dw.weight">())>, tl::tensor<float, 6, 1, 3, 3>>);
  BOOST_TEST(params.names[0] == "dw.weight");
}

template <class R, std::size_t... Dims>
void check_layer_norm() {
  constexpr std::size_t D = tl::shape<Dims...>::dims[sizeof...(Dims) - 1];
  constexpr auto P = tl::param<"P", double, Dims...>;
  constexpr auto B = tl::input<"B", double, Dims...>;
  constexpr auto loss = tl::sum(tl::nn::layer_norm<"ln">(P) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(params.template get<"ln.weight">())>, tl::tensor<double, D>>);
  // torch's start: weight 1, bias 0.
  for (double w : params.template get<"ln.weight">()) BOOST_TEST(w == 1.0);
  test::fill(params.template get<"P">(), R::P);
  test::fill(params.template get<"ln.weight">(), R::G);
  test::fill(params.template get<"ln.bias">(), R::C);
  tl::tensor<double, Dims...> b;
  test::fill(b, R::B);
  test::check_close("loss", program.step(params, B = b), R::loss, 1e-10);
  test::check_close("dP", params.template grad<"P">(), R::grad_P, 1e-10);
  test::check_close("dweight", params.template grad<"ln.weight">(), R::grad_G, 1e-10);
  test::check_close("dbias", params.template grad<"ln.bias">(), R::grad_C, 1e-10);
  test::check_finite_differences(program, params, 1e-6, 1e-6, B = b);
}

#define TAPELESS_LAYER_NORM_REFERENCE(ns)                          \
  struct ns##_values {                                             \
    static constexpr const auto& P = reference::ns::P;             \
    static constexpr const auto& G = reference::ns::G;             \
    static constexpr const auto& C = reference::ns::C;             \
    static constexpr const auto& B = reference::ns::B;             \
    static constexpr double loss = reference::ns::loss;            \
    static constexpr const auto& grad_P = reference::ns::grad_P;   \
    static constexpr const auto& grad_G = reference::ns::grad_G;   \
    static constexpr const auto& grad_C = reference::ns::grad_C;   \
  }
TAPELESS_LAYER_NORM_REFERENCE(layer_norm_2d);
TAPELESS_LAYER_NORM_REFERENCE(layer_norm_3d);

BOOST_AUTO_TEST_CASE(layer_norm_over_the_last_axis_matches_pytorch) {
  check_layer_norm<layer_norm_2d_values, 5, 7>();
  check_layer_norm<layer_norm_3d_values, 2, 3, 9>();
}

// The float kernels on rows of 600 (a tail after whole batches: 37 x 16 + 8
// with AVX-512), the rows split between two threads, against PyTorch in
// float64 from the same float inputs (tests/reference/layer_norm_fused.py
// computes them from the same formulas). One node and one row kernel each
// way: the training step is the normalization, its backward, the loss's
// reduction, the weight's product with the adjoint and the two parameter
// gradients' reductions.
BOOST_AUTO_TEST_CASE(layer_norm_of_long_rows_in_float_on_threads_matches_pytorch) {
  namespace r = reference::layer_norm_rows;
  constexpr auto P = tl::param<"P", float, 3, 40, 600>;
  constexpr auto B = tl::input<"B", float, 3, 40, 600>;
  constexpr auto loss = tl::sum(tl::nn::layer_norm<"ln">(P) * B);
  using program_type = decltype(tl::compile(loss));
  static_assert(program_type::forward_kernels == 2 && program_type::training_kernels == 6);
  auto params = tl::parameters_of(loss);
  auto& p = params.get<"P">();
  tl::tensor<float, 3, 40, 600> b;
  for (std::size_t i = 0; i < p.size(); ++i) {
    p[i] = static_cast<float>(2 * std::sin(0.37 * double(i)) + 0.5 * double(i % 7));
    b[i] = static_cast<float>(std::cos(0.11 * double(i)));
  }
  for (std::size_t j = 0; j < 600; ++j) {
    params.get<"ln.weight">()[j] = static_cast<float>(1 + 0.01 * double(j % 13));
    params.get<"ln.bias">()[j] = static_cast<float>(0.1 * std::sin(double(j)));
  }
  auto alone = tl::compile(loss);
  const float loss_alone = alone.step(params, B = b);
  const auto grad_alone = params.grad<"P">();
  const auto weight_alone = params.grad<"ln.weight">();
  test::check_close("loss", loss_alone, r::loss, 1e-4);
  for (std::size_t k = 0; k < std::size(r::grad_P); ++k)
    test::check_close("dP", grad_alone[k * r::grad_P_stride], r::grad_P[k], 1e-4);
  for (std::size_t k = 0; k < std::size(r::grad_weight); ++k) {
    test::check_close("dweight", weight_alone[k * r::grad_weight_stride], r::grad_weight[k], 1e-4);
    test::check_close("dbias", params.grad<"ln.bias">()[k * r::grad_weight_stride], r::grad_bias[k], 1e-4);
  }

  tl::thread_pool pool(2);
  auto threaded = tl::compile(loss);
  threaded.use_threads(&pool);
  BOOST_TEST(threaded.step(params, B = b) == loss_alone);
  for (std::size_t i = 0; i < grad_alone.size(); ++i)
    BOOST_TEST_REQUIRE(params.grad<"P">()[i] == grad_alone[i], "dP[" << i << "] differs on two threads");
  for (std::size_t j = 0; j < 600; ++j) BOOST_TEST_REQUIRE(params.grad<"ln.weight">()[j] == weight_alone[j]);
}

// A second derivative through the fused layer norm (its backward node's own
// rule): the gradient of sum((dloss/dP)^2), against torch's double backward.
BOOST_AUTO_TEST_CASE(layer_norm_second_derivative_matches_pytorch_double_backward) {
  namespace r = reference::layer_norm_penalty;
  constexpr auto P = tl::param<"P", double, 4, 6>;
  constexpr auto B = tl::input<"B", double, 4, 6>;
  constexpr auto loss = tl::sum(tl::nn::layer_norm<"ln">(P) * B);
  constexpr auto gradient = tl::d(loss, P);
  constexpr auto penalty = tl::sum(gradient * gradient);
  auto program = tl::compile(penalty);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"ln.weight">(), r::weight);
  test::fill(params.get<"ln.bias">(), r::bias);
  tl::tensor<double, 4, 6> b;
  test::fill(b, r::B);
  test::check_close("penalty", program.step(params, B = b), r::penalty, 1e-10);
  test::check_close("dP", params.grad<"P">(), r::grad_P, 1e-10);
  test::check_close("dweight", params.grad<"ln.weight">(), r::grad_weight, 1e-10);
}

// Batch norm of P + X_k, loss sum(bn(P + X_k) * B), for steps k = 0, 1, 2,
// then the running statistics and the eval output for X_eval.
template <class Layer, class Values, std::size_t... Dims>
void check_batch_norm(Layer layer, Values v) {
  constexpr auto P = tl::param<"P", double, Dims...>;
  constexpr auto X = tl::input<"X", double, Dims...>;
  constexpr auto B = tl::input<"B", double, Dims...>;
  constexpr auto loss = tl::sum(layer(P + X) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  // torch's start: weight 1, bias 0, running mean 0, running var 1, no batches.
  for (double w : params.template get<"bn.weight">()) BOOST_TEST(w == 1.0);
  for (double w : params.template get<"bn.running_var">()) BOOST_TEST(w == 1.0);
  BOOST_TEST(params.template get<"bn.num_batches_tracked">()[0] == 0);
  test::fill(params.template get<"P">(), v.P);
  test::fill(params.template get<"bn.weight">(), v.weight);
  test::fill(params.template get<"bn.bias">(), v.bias);
  tl::tensor<double, Dims...> b, x;
  test::fill(b, v.B);
  for (std::size_t k = 0; k < 3; ++k) {
    test::fill(x, *v.X[k]);
    test::check_close("loss", program.step(params, X = x, B = b), v.loss[k], 1e-10);
    test::check_close("dP", params.template grad<"P">(), *v.grad_P[k], 1e-10);
    test::check_close("dweight", params.template grad<"bn.weight">(), *v.grad_weight[k], 1e-10);
    test::check_close("dbias", params.template grad<"bn.bias">(), *v.grad_bias[k], 1e-10);
  }
  test::check_close("running_mean", params.template get<"bn.running_mean">(), *v.running_mean, 1e-12);
  test::check_close("running_var", params.template get<"bn.running_var">(), *v.running_var, 1e-12);
  BOOST_TEST(params.template get<"bn.num_batches_tracked">()[0] == v.num_batches_tracked);
  // A forward-only call normalizes with the running statistics, and leaves them alone.
  auto saved = params;
  test::fill(x, *v.X_eval);
  test::check_close("eval loss", program(params, X = x, B = b), v.eval_loss, 1e-10);
  BOOST_TEST((params.template get<"bn.running_var">() == saved.template get<"bn.running_var">()));
  BOOST_TEST(params.template get<"bn.num_batches_tracked">()[0] == v.num_batches_tracked);
  // Central differences of the training loss (batch statistics), one element of each parameter.
  test::fill(x, *v.X[0]);
  program.step(params, X = x, B = b);
  auto analytic = params;
  const double h = 1e-6;
  auto check = [&](std::string_view name, auto& value, const auto& grad) {
    for (std::size_t i : {std::size_t{0}, value.size() / 2, value.size() - 1}) {
      const double keep = value[i];
      value[i] = keep + h;
      const double up = program.step(params, X = x, B = b);
      value[i] = keep - h;
      const double down = program.step(params, X = x, B = b);
      value[i] = keep;
      const double numeric = (up - down) / (2 * h);
      BOOST_TEST(std::abs(numeric - grad[i]) <= 1e-6 * std::max(1.0, std::abs(grad[i])),
                 name << "[" << i << "]: " << grad[i] << " vs central difference " << numeric);
    }
  };
  check("P", params.template get<"P">(), analytic.template grad<"P">());
  check("bn.weight", params.template get<"bn.weight">(), analytic.template grad<"bn.weight">());
}

#define TAPELESS_BATCH_NORM_REFERENCE(ns)                                                                       \
  struct ns##_values {                                                                                          \
    const double (&P)[std::size(reference::ns::P)] = reference::ns::P;                                          \
    const double (&B)[std::size(reference::ns::B)] = reference::ns::B;                                          \
    const double (&weight)[std::size(reference::ns::weight)] = reference::ns::weight;                           \
    const double (&bias)[std::size(reference::ns::bias)] = reference::ns::bias;                                 \
    const double (*X[3])[std::size(reference::ns::P)] = {&reference::ns::X0, &reference::ns::X1, &reference::ns::X2}; \
    const double (*X_eval)[std::size(reference::ns::P)] = &reference::ns::X_eval;                                \
    double loss[3] = {reference::ns::loss0, reference::ns::loss1, reference::ns::loss2};                        \
    const double (*grad_P[3])[std::size(reference::ns::P)] = {&reference::ns::grad_P0, &reference::ns::grad_P1, \
                                                              &reference::ns::grad_P2};                         \
    const double (*grad_weight[3])[std::size(reference::ns::weight)] = {                                        \
        &reference::ns::grad_weight0, &reference::ns::grad_weight1, &reference::ns::grad_weight2};              \
    const double (*grad_bias[3])[std::size(reference::ns::weight)] = {                                          \
        &reference::ns::grad_bias0, &reference::ns::grad_bias1, &reference::ns::grad_bias2};                    \
    const double (*running_mean)[std::size(reference::ns::weight)] = &reference::ns::running_mean;              \
    const double (*running_var)[std::size(reference::ns::weight)] = &reference::ns::running_var;                \
    long long num_batches_tracked = reference::ns::num_batches_tracked;                                         \
    double eval_loss = reference::ns::eval_loss;                                                                \
  }
TAPELESS_BATCH_NORM_REFERENCE(batch_norm2d);
TAPELESS_BATCH_NORM_REFERENCE(batch_norm1d);
TAPELESS_BATCH_NORM_REFERENCE(batch_norm1d_sequence);

BOOST_AUTO_TEST_CASE(batch_norm2d_steps_running_statistics_and_eval_output_match_pytorch) {
  check_batch_norm<decltype([](auto x) { return tl::nn::batch_norm2d<"bn">(x); }), batch_norm2d_values, 4, 3, 5, 7>(
      {}, {});
}

BOOST_AUTO_TEST_CASE(batch_norm1d_on_features_and_on_sequences_matches_pytorch) {
  check_batch_norm<decltype([](auto x) { return tl::nn::batch_norm1d<"bn">(x); }), batch_norm1d_values, 6, 5>({}, {});
  check_batch_norm<decltype([](auto x) { return tl::nn::batch_norm1d<"bn">(x); }), batch_norm1d_sequence_values, 4,
                   3, 5>({}, {});
}

namespace {
constexpr auto I = tl::input<"I", float, 5, 1, 6, 5>;
constexpr auto cnn = tl::nn::linear<"fc", 4>(tl::flatten(tl::max_pool2d<2>(
    tl::relu(tl::nn::batch_norm2d<"bn1">(tl::nn::conv2d<"conv1", 3, 3, tl::nn::conv_options{.padding = 1}>(I))))));
}  // namespace

BOOST_AUTO_TEST_CASE(buffers_are_left_alone_by_initializers_and_optimizers) {
  auto params = tl::parameters_of(tl::sum(cnn));
  params.get<"bn1.running_mean">().fill(0.5f);
  params.get<"bn1.running_var">().fill(2.f);
  params.get<"bn1.num_batches_tracked">()[0] = 9;
  tl::init::he_normal(params, 3);  // buffers back to torch's start; norm scale 1, biases 0
  BOOST_TEST(params.get<"bn1.running_mean">()[0] == 0.f);
  BOOST_TEST(params.get<"bn1.running_var">()[2] == 1.f);
  BOOST_TEST(params.get<"bn1.num_batches_tracked">()[0] == 0);
  BOOST_TEST(params.get<"bn1.weight">()[1] == 1.f);
  BOOST_TEST(params.get<"conv1.bias">()[1] == 0.f);
  BOOST_TEST(params.get<"conv1.weight">()[1] != 0.f);
  params.get<"bn1.running_var">().fill(2.f);
  params.visit([](std::string_view, auto&, auto& grad) { grad.fill(1); });
  auto opt = tl::optim::optimizer(params, tl::optim::adamw{.lr = 0.1f});
  opt.step(params);
  BOOST_TEST(params.get<"bn1.running_var">()[0] == 2.f);
  BOOST_TEST(params.get<"bn1.num_batches_tracked">()[0] == 0);
  BOOST_TEST(params.get<"bn1.weight">()[0] != 1.f);
  tl::optim::clip_grad_value(params, 0.5f);  // compiles with an integer buffer; clips parameters only
  BOOST_TEST(params.grad<"conv1.weight">()[0] == 0.5f);
}

BOOST_AUTO_TEST_CASE(a_torch_cnn_with_batch_norm_loads_from_safetensors_and_predicts_as_in_eval) {
  namespace r = reference::cnn_model;
  auto predict = tl::compile(cnn);
  auto params = tl::parameters_of(cnn);
  const fs::path file = fs::path(TAPELESS_TEST_SOURCE_DIR) / "tests" / "reference" / "cnn_model.safetensors";
  tl::io::load(params, file);
  BOOST_TEST(params.get<"bn1.num_batches_tracked">()[0] == r::bn1_num_batches_tracked[0]);
  for (std::size_t i = 0; i < std::size(r::bn1_running_var); ++i)
    BOOST_TEST(params.get<"bn1.running_var">()[i] == r::bn1_running_var[i]);
  tl::tensor<float, 5, 1, 6, 5> x;
  test::fill(x, r::x);
  const auto& y = predict(params, I = x);
  for (std::size_t i = 0; i < y.size(); ++i)
    BOOST_TEST(std::abs(y[i] - r::y[i]) <= 1e-5f * std::max(1.f, std::abs(r::y[i])), "y[" << i << "] " << y[i] << " vs " << r::y[i]);
  // Saved and read back: every entry, buffers included, as it was.
  const fs::path copy = fs::temp_directory_path() / "tapeless_cnn_layers_round_trip.safetensors";
  tl::io::save(params, copy);
  auto again = tl::parameters_of(cnn);
  tl::io::load(again, copy);
  fs::remove(copy);
  BOOST_TEST(again.get<"bn1.num_batches_tracked">()[0] == r::bn1_num_batches_tracked[0]);
  BOOST_TEST((again.get<"bn1.running_mean">() == params.get<"bn1.running_mean">()));
  BOOST_TEST((again.get<"conv1.weight">() == params.get<"conv1.weight">()));
}
