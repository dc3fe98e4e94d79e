// Gradients of every tensor op and of composite losses, from compiled
// programs, against PyTorch (tests/reference/tensor_gradients.py) and
// central differences.
#define BOOST_TEST_MODULE compile_gradients
#include "support.hpp"

#include "../reference/tensor_gradients.inc"

namespace tl = tapeless;

namespace {
constexpr double tolerance = 1e-10;  // float64 throughout: only rounding separates us from PyTorch
constexpr double fd_step = 1e-6, fd_tolerance = 1e-6;
}  // namespace

BOOST_AUTO_TEST_CASE(elementwise_ops_match_pytorch) {
  namespace r = reference::elementwise;
  constexpr auto A = tl::param<"A", double, 3, 5>;
  constexpr auto B = tl::param<"B", double, 3, 5>;
  constexpr auto loss = tl::sum(
      tl::exp(A) * tl::sin(B) + tl::cos(A * B) - tl::tanh(A) / (1.0 + B * B) +
      tl::sigmoid(B) * tl::sqrt(A * A + 1.0) + tl::log(B * B + 2.0) * tl::abs(A) + tl::relu(A - B) +
      tl::max(A, B) * tl::min(A, 2.0 * B) + tl::pow(A * A + 1.0, tl::c<3, 2>) + tl::tan(0.3 * B) -
      tl::square(A - 0.5) / 3.0);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"B">(), r::B);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dB", params.grad<"B">(), r::grad_B, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(broadcasting_in_both_directions_matches_pytorch) {
  namespace r = reference::broadcasting;
  constexpr auto A = tl::param<"A", double, 3, 4>;
  constexpr auto row = tl::param<"r", double, 4>;
  constexpr auto column = tl::param<"c", double, 3, 1>;
  constexpr auto loss = tl::sum(tl::tanh(A * row + column) * (column - row) + row / (2.0 + column * column));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"r">(), r::r);
  test::fill(params.get<"c">(), r::c);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dr", params.grad<"r">(), r::grad_r, tolerance);
  test::check_close("dc", params.grad<"c">(), r::grad_c, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(transposed_matmuls_match_pytorch) {
  namespace r = reference::matmul_transposes;
  constexpr auto A = tl::param<"A", double, 5, 3>;
  constexpr auto B = tl::param<"B", double, 5, 4>;
  constexpr auto C = tl::param<"C", double, 4, 3>;
  constexpr auto loss = tl::sum(tl::square(tl::matmul(tl::transpose(A), B)) * 0.5) +
                        tl::sum(tl::tanh(tl::matmul(tl::matmul(B, C), tl::transpose(A)))) +
                        tl::mean(tl::matmul(tl::matmul(C, tl::transpose(A)), B));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"B">(), r::B);
  test::fill(params.get<"C">(), r::C);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dB", params.grad<"B">(), r::grad_B, tolerance);
  test::check_close("dC", params.grad<"C">(), r::grad_C, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(reductions_match_pytorch) {
  namespace r = reference::reductions;
  constexpr auto A = tl::param<"A", double, 4, 6>;
  constexpr auto w = tl::param<"w", double, 6>;
  constexpr auto v = tl::param<"v", double, 4>;
  constexpr auto loss = tl::sum(tl::sum<0>(A) * w) + tl::sum(tl::mean<1>(A) * v) +
                        tl::sum(tl::max<1>(A) * v) + tl::mean(tl::logsumexp<1>(A)) +
                        tl::sum(tl::logsumexp<0>(A * w) * w) + tl::max(A * 2.0) + tl::logsumexp(A);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"w">(), r::w);
  test::fill(params.get<"v">(), r::v);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dw", params.grad<"w">(), r::grad_w, tolerance);
  test::check_close("dv", params.grad<"v">(), r::grad_v, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_match_pytorch) {
  namespace r = reference::softmax;
  constexpr auto Z = tl::param<"Z", double, 5, 7>;
  constexpr auto T = tl::param<"T", double, 5, 7>;
  constexpr auto loss = tl::sum(tl::softmax(Z) * T) + tl::mean(tl::log_softmax<-1>(Z * T) * T);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"Z">(), r::Z);
  test::fill(params.get<"T">(), r::T);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dZ", params.grad<"Z">(), r::grad_Z, tolerance);
  test::check_close("dT", params.grad<"T">(), r::grad_T, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(cross_entropy_and_mse_match_pytorch) {
  namespace r = reference::losses;
  constexpr auto Z = tl::param<"Z", double, 6, 4>;
  constexpr auto P = tl::param<"P", double, 6, 4>;
  constexpr auto labels = tl::input<"labels", std::int32_t, 6>;
  constexpr auto target = tl::input<"target", double, 6, 4>;
  constexpr auto loss = tl::cross_entropy(Z, labels) + tl::mse(P, target) + tl::cross_entropy(Z * P, labels);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"Z">(), r::Z);
  test::fill(params.get<"P">(), r::P);
  tl::tensor<std::int32_t, 6> y;
  tl::tensor<double, 6, 4> t;
  test::fill(y, r::labels);
  test::fill(t, r::target);
  test::check_close("loss", program.step(params, labels = y, target = t), r::loss, tolerance);
  test::check_close("dZ", params.grad<"Z">(), r::grad_Z, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, labels = y, target = t);
}

// A per-channel parameter's gradient is a sum over the batch and whole
// planes: run plane by plane when every operand of its tree is whole planes
// or per channel (the first and third terms), row by row when one varies
// along the width alone (R, the second).
BOOST_AUTO_TEST_CASE(per_channel_gradients_summed_over_planes_match_pytorch) {
  namespace r = reference::per_channel_sums;
  constexpr auto b = tl::param<"b", double, 4, 1, 1>;
  constexpr auto g = tl::param<"g", double, 4, 1, 1>;
  constexpr auto R = tl::param<"R", double, 6>;
  constexpr auto X = tl::input<"X", double, 3, 4, 5, 6>;
  constexpr auto S = tl::input<"S", double, 3, 4, 5, 6>;
  constexpr auto loss = tl::sum(tl::tanh(X * g + b) * S) + tl::sum(tl::sigmoid(X + b) * R) + tl::mean(X * b * g);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"b">(), r::b);
  test::fill(params.get<"g">(), r::g);
  test::fill(params.get<"R">(), r::R);
  tl::tensor<double, 3, 4, 5, 6> x, s;
  test::fill(x, r::X);
  test::fill(s, r::S);
  test::check_close("loss", program.step(params, X = x, S = s), r::loss, tolerance);
  test::check_close("db", params.grad<"b">(), r::grad_b, tolerance);
  test::check_close("dg", params.grad<"g">(), r::grad_g, tolerance);
  test::check_close("dR", params.grad<"R">(), r::grad_R, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, X = x, S = s);
}

BOOST_AUTO_TEST_CASE(reshape_matches_pytorch) {
  namespace r = reference::reshape;
  constexpr auto A = tl::param<"A", double, 2, 6>;
  constexpr auto B = tl::param<"B", double, 3, 4>;
  constexpr auto loss = tl::sum(tl::reshape<3, 4>(A) * B) +
                        tl::sum(tl::tanh(tl::reshape<12>(B) * tl::reshape<12>(A))) +
                        tl::mean(tl::reshape<12, 1>(A) * tl::reshape<1, 12>(B));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"B">(), r::B);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dB", params.grad<"B">(), r::grad_B, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

namespace {
constexpr auto labels = tl::input<"labels", std::int32_t, 8>;
template <class T>
constexpr auto mlp_loss() {
  constexpr auto W1 = tl::param<"W1", T, 16, 6>;
  constexpr auto b1 = tl::param<"b1", T, 16>;
  constexpr auto W2 = tl::param<"W2", T, 12, 16>;
  constexpr auto b2 = tl::param<"b2", T, 12>;
  constexpr auto W3 = tl::param<"W3", T, 4, 12>;
  constexpr auto b3 = tl::param<"b3", T, 4>;
  constexpr auto X = tl::input<"X", T, 8, 6>;
  constexpr auto h1 = tl::relu(tl::matmul(X, tl::transpose(W1)) + b1);
  constexpr auto h2 = tl::tanh(tl::matmul(h1, tl::transpose(W2)) + b2);
  constexpr auto z = tl::sigmoid(tl::matmul(h2, tl::transpose(W3)) + b3) * T(4);
  return tl::cross_entropy(z, labels);
}
}  // namespace

template <class T>
void check_mlp(double tol) {
  namespace r = reference::mlp;
  constexpr auto loss = mlp_loss<T>();
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.template get<"W1">(), r::W1);
  test::fill(params.template get<"b1">(), r::b1);
  test::fill(params.template get<"W2">(), r::W2);
  test::fill(params.template get<"b2">(), r::b2);
  test::fill(params.template get<"W3">(), r::W3);
  test::fill(params.template get<"b3">(), r::b3);
  tl::tensor<T, 8, 6> x;
  tl::tensor<std::int32_t, 8> y;
  test::fill(x, r::X);
  test::fill(y, r::labels);
  constexpr auto Xt = tl::input<"X", T, 8, 6>;
  test::check_close("loss", program.step(params, Xt = x, labels = y), r::loss, tol);
  test::check_close("dW1", params.template grad<"W1">(), r::grad_W1, tol);
  test::check_close("db1", params.template grad<"b1">(), r::grad_b1, tol);
  test::check_close("dW2", params.template grad<"W2">(), r::grad_W2, tol);
  test::check_close("db2", params.template grad<"b2">(), r::grad_b2, tol);
  test::check_close("dW3", params.template grad<"W3">(), r::grad_W3, tol);
  test::check_close("db3", params.template grad<"b3">(), r::grad_b3, tol);
  if constexpr (std::is_same_v<T, double>)
    test::check_finite_differences(program, params, fd_step, fd_tolerance, Xt = x, labels = y);
}

BOOST_AUTO_TEST_CASE(three_layer_perceptron_with_cross_entropy_matches_pytorch) { check_mlp<double>(tolerance); }

// The same network in float: SIMD batches of 8 or 16, tails, float rounding.
BOOST_AUTO_TEST_CASE(three_layer_perceptron_in_float_matches_pytorch) { check_mlp<float>(2e-5); }

BOOST_AUTO_TEST_CASE(activations_match_pytorch) {
  namespace r = reference::activations;
  constexpr auto A = tl::param<"A", double, 4, 5>;
  constexpr auto B = tl::param<"B", double, 4, 5>;
  constexpr auto loss = tl::sum(tl::elu(A) * B + tl::softplus(A * 3.0) + tl::leaky_relu(A) * B +
                                tl::leaky_relu(B, tl::c<1, 5>) * A + tl::silu(A + B) + tl::gelu(A * B) +
                                tl::elu(B, 0.5) * A);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"B">(), r::B);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dB", params.grad<"B">(), r::grad_B, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(l1_huber_and_binary_cross_entropy_match_pytorch) {
  namespace r = reference::more_losses;
  constexpr auto P = tl::param<"P", double, 5, 3>;
  constexpr auto Z = tl::param<"Z", double, 5, 3>;
  constexpr auto target = tl::input<"target", double, 5, 3>;
  constexpr auto bits = tl::input<"bits", double, 5, 3>;
  constexpr auto loss = tl::l1_loss(P, target) + tl::huber(P, target) + tl::huber(P * 2.0, target, 0.5) +
                        tl::binary_cross_entropy_with_logits(Z * 4.0, bits);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"Z">(), r::Z);
  tl::tensor<double, 5, 3> t, b;
  test::fill(t, r::target);
  test::fill(b, r::bits);
  test::check_close("loss", program.step(params, target = t, bits = b), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_close("dZ", params.grad<"Z">(), r::grad_Z, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, target = t, bits = b);
}

namespace {
template <class N>
constexpr bool is_pad = false;
template <class Full, std::size_t Axis, std::size_t Begin, class A>
constexpr bool is_pad<tl::node<tl::pad_op<Full, Axis, Begin>, A>> = true;
template <class N>
constexpr bool is_concat = false;
template <class SA, class SB, std::size_t Axis, class A, class B>
constexpr bool is_concat<tl::node<tl::concat_op<SA, SB, Axis>, A, B>> = true;
}  // namespace

// The gradient of a tensor sliced into parts is the parts' gradients joined
// (diff/simplify/rules.hpp), not a zero-padded tensor per part summed.
BOOST_AUTO_TEST_CASE(a_tensor_sliced_into_parts_matches_pytorch) {
  namespace r = reference::sliced_parts;
  constexpr auto P = tl::param<"P", double, 4, 3, 5>;
  constexpr auto W = tl::param<"W", double, 3, 5>;
  constexpr auto p0 = tl::reshape<3, 5>(tl::slice<0, 0, 1>(P));
  constexpr auto p1 = tl::reshape<3, 5>(tl::slice<0, 1, 2>(P));
  constexpr auto p2 = tl::reshape<3, 5>(tl::slice<0, 2, 3>(P));
  constexpr auto p3 = tl::reshape<3, 5>(tl::slice<0, 3, 4>(P));
  constexpr auto loss = tl::sum(tl::tanh(p2) * p0) + tl::sum(tl::sigmoid(p3) * W) + tl::sum(tl::square(p1 * W));
  auto program = tl::compile(loss);
  using schedule = decltype(program)::training_schedule;
  const auto ops = [] {
    std::size_t pads = 0, concats = 0;
    [&]<class... Ns>(tl::detail::type_list<Ns...>) {
      ((pads += is_pad<Ns>), ...);
      ((concats += is_concat<Ns>), ...);
    }(typename schedule::nodes{});
    return std::pair{pads, concats};
  }();
  BOOST_TEST(ops.first == 0u);
  BOOST_TEST(ops.second == 3u);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"W">(), r::W);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}

BOOST_AUTO_TEST_CASE(slice_and_concat_match_pytorch) {
  namespace r = reference::slice_concat;
  constexpr auto A = tl::param<"A", double, 4, 6>;
  constexpr auto B = tl::param<"B", double, 4, 3>;
  constexpr auto W = tl::param<"W", double, 4, 6>;
  constexpr auto loss = tl::sum(tl::tanh(tl::concat<1>(tl::slice<1, 1, 4>(A), B)) * W) +
                        tl::sum(tl::slice<0, 1, 3>(A) * tl::slice<0, 0, 2>(W)) +
                        tl::mean(tl::square(tl::concat<0>(A, W))) +
                        tl::sum(tl::sigmoid(tl::slice<-1, 5, 6>(A) * B));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"A">(), r::A);
  test::fill(params.get<"B">(), r::B);
  test::fill(params.get<"W">(), r::W);
  test::check_close("loss", program.step(params), r::loss, tolerance);
  test::check_close("dA", params.grad<"A">(), r::grad_A, tolerance);
  test::check_close("dB", params.grad<"B">(), r::grad_B, tolerance);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}
