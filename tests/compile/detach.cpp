// tl::detach: values and gradients against PyTorch (tests/reference/detach.py)
// and derivatives of every order through it; beside it, logsumexp over every
// element and along each axis, softmax and log_softmax along either axis (a
// masked logit included) and the Hessian-vector product of logsumexp, each
// against PyTorch; and the softmax read from the reduction's kernel.
#define BOOST_TEST_MODULE compile_detach
#include "support.hpp"

#include "../reference/detach.inc"

#include <string>

namespace tl = tapeless;

namespace {
constexpr double tolerance = 1e-12;
constexpr auto x = tl::var<"x">;
}  // namespace

BOOST_AUTO_TEST_CASE(detach_is_its_operand_with_no_derivative_at_any_order) {
  constexpr auto f = x * tl::detach(x) + tl::square(tl::detach(x * x));
  static_assert(f(x = 1.5) == 1.5 * 1.5 + 2.25 * 2.25);
  // Only the first factor's x is differentiated: d f = detach(x), d2 f = 0.
  static_assert(tl::d(f, x)(x = 1.5) == 1.5);
  static_assert(tl::d(tl::d(f, x), x)(x = 1.5) == 0.0);
  BOOST_TEST(tl::to_string(tl::detach(x) + 1) == "detach(x) + 1");
  static_assert(tl::detach(2.5) == 2.5);  // a plain number passes through
}

BOOST_AUTO_TEST_CASE(detached_parameters_expressions_and_maxima_match_pytorch) {
  namespace r = reference::detached_parts;
  constexpr auto W = tl::param<"W", double, 4, 6>;
  constexpr auto A = tl::input<"A", double, 4, 6>;
  constexpr auto loss = tl::sum(W * tl::detach(W) * A) + tl::sum(W * tl::detach(W * A)) +
                        tl::sum(W * tl::detach(tl::reshape<4, 1>(tl::max<1>(W))));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"W">(), r::W);
  tl::tensor<double, 4, 6> a;
  test::fill(a, r::A);
  test::check_close("loss", program.step(params, A = a), r::loss, tolerance);
  test::check_close("dW", params.grad<"W">(), r::grad_W, tolerance);
}

BOOST_AUTO_TEST_CASE(logsumexp_over_every_element_and_each_axis_matches_pytorch) {
  namespace r = reference::logsumexp_axes;
  constexpr auto Z = tl::param<"Z", double, 3, 4, 5>;
  constexpr auto B0 = tl::input<"B0", double, 4, 5>;
  constexpr auto B1 = tl::input<"B1", double, 3, 5>;
  constexpr auto B2 = tl::input<"B2", double, 3, 4>;
  constexpr auto loss = tl::logsumexp(Z) + tl::sum(tl::logsumexp<0>(Z) * B0) + tl::sum(tl::logsumexp<1>(Z) * B1) +
                        tl::sum(tl::logsumexp<2>(Z) * B2);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"Z">(), r::Z);
  tl::tensor<double, 4, 5> b0;
  tl::tensor<double, 3, 5> b1;
  tl::tensor<double, 3, 4> b2;
  test::fill(b0, r::B0), test::fill(b1, r::B1), test::fill(b2, r::B2);
  test::check_close("loss", program.step(params, B0 = b0, B1 = b1, B2 = b2), r::loss, tolerance);
  test::check_close("dZ", params.grad<"Z">(), r::grad_Z, tolerance);
  // The forward call alone gives the same loss.
  test::check_close("forward loss", program(params, B0 = b0, B1 = b1, B2 = b2), r::loss, tolerance);
}

BOOST_AUTO_TEST_CASE(softmax_and_log_softmax_along_either_axis_match_pytorch) {
  namespace r = reference::softmax_axes;
  constexpr auto Z = tl::param<"Z", double, 5, 7>;
  constexpr auto M = tl::input<"M", double, 5, 7>;  // 0, and -inf at one logit
  constexpr auto B = tl::input<"B", double, 5, 7>;
  constexpr auto C = tl::input<"C", double, 5, 7>;
  constexpr auto loss = tl::sum(tl::softmax<-1>(Z + M) * B) + tl::sum(tl::log_softmax<0>(Z) * C) +
                        tl::sum(tl::softmax<0>(Z) * C) + tl::sum(tl::log_softmax<-1>(Z) * B) * 0.5;
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"Z">(), r::Z);
  tl::tensor<double, 5, 7> m, b, c;
  test::fill(m, r::M), test::fill(b, r::B), test::fill(c, r::C);
  test::check_close("loss", program.step(params, M = m, B = b, C = c), r::loss, tolerance);
  test::check_close("dZ", params.grad<"Z">(), r::grad_Z, tolerance);
}

BOOST_AUTO_TEST_CASE(the_hessian_of_logsumexp_along_a_direction_matches_pytorch) {
  namespace r = reference::logsumexp_hvp;
  constexpr auto X = tl::param<"x", double, 9>;
  constexpr auto V = tl::input<"v", double, 9>;
  constexpr auto gradient = tl::grad(tl::logsumexp(X), X);
  constexpr auto hv = tl::grad(tl::sum(gradient[X] * V), X)[X];
  auto program = tl::compile(hv);
  auto params = tl::parameters_of(hv);
  test::fill(params.get<"x">(), r::x);
  tl::tensor<double, 9> v;
  test::fill(v, r::v);
  test::check_close("Hv", program(params, V = v), r::hv, tolerance);
}

// logsumexp's gradient and tl::softmax read the softmax the reduction's
// kernel keeps (a view): a training program of cross-entropy and one of a
// softmax compute no exponential outside the reduction, and their values
// and gradients still match PyTorch's above.
BOOST_AUTO_TEST_CASE(the_softmax_is_read_from_the_reductions_kernel_not_computed_again) {
  constexpr auto Z = tl::param<"Z", float, 64, 1000>;
  constexpr auto Y = tl::input<"Y", std::int32_t, 64>;
  constexpr auto S = tl::input<"S", float, 64, 1000>;
  for (const auto& dot : {tl::to_dot(tl::compile(tl::cross_entropy(Z, Y))),
                                tl::to_dot(tl::compile(tl::sum(tl::softmax<-1>(Z) * S)))}) {
    BOOST_TEST(dot.find("label=\"exp ") == std::string::npos);
    BOOST_TEST(dot.find("softmax_of_logsumexp [64, 1000]\", shape=box") != std::string::npos);
  }
  // Where nothing reads it, nothing is kept: a forward-only logsumexp's arena
  // has no room for it.
  static_assert(decltype(tl::compile(tl::logsumexp<-1>(S)))::arena_bytes < 64 * 1000 * sizeof(float));
  static_assert(decltype(tl::compile(tl::cross_entropy(Z, Y)))::arena_bytes >= 64 * 1000 * sizeof(float));
  // A forward-only softmax reads it too: the reduction's kernel, then the
  // copy into the program's output (no exponential there).
  static_assert(decltype(tl::compile(tl::softmax<-1>(S)))::forward_kernels == 2);
  BOOST_TEST(tl::to_dot(tl::compile(tl::softmax<-1>(S))).find("label=\"exp ") == std::string::npos);
}
