// tl::where, tl::clamp and the special functions in compiled programs: fused into their consumers'
// loops (three-operand nodes through the planner and the SIMD loop), values
// and gradients against PyTorch (tests/reference/where_clamp_compiled.py) and
// central differences away from the kinks.
#define BOOST_TEST_MODULE compile_where_clamp
#include "support.hpp"

#include "../reference/where_clamp_compiled.inc"

namespace tl = tapeless;

namespace {
constexpr double tolerance = 1e-12;
constexpr double fd_step = 1e-7, fd_tolerance = 1e-6;
}  // namespace

BOOST_AUTO_TEST_CASE(clamp_of_an_affine_map_is_one_kernel) {
  constexpr auto A = tl::input<"A", float, 37, 29>;  // SIMD body and scalar tail on every row
  constexpr auto B = tl::input<"B", float, 37, 29>;
  constexpr auto C = tl::input<"C", float, 29>;      // broadcast over the rows
  constexpr auto f = tl::clamp(A * B + C, 0.f, 1.f);
  auto program = tl::compile(f);
  static_assert(decltype(program)::forward_kernels == 1);
  BOOST_TEST(decltype(program)::forward_kernels == 1u);
  tl::tensor<float, 37, 29> a, b;
  tl::tensor<float, 29> c;
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.03f * float(i % 67) - 1.f, b[i] = 0.05f * float(i % 23) - 0.4f;
  for (std::size_t j = 0; j < c.size(); ++j) c[j] = 0.1f * float(j) - 1.f;
  auto none = tl::parameters_of(f);
  const auto& out = program(none, A = a, B = b, C = c);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float v = a[i] * b[i] + c[i % 29];
    const float expected = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
    BOOST_TEST(out[i] == expected, "element " << i);
  }
}

BOOST_AUTO_TEST_CASE(clamp_gradients_match_pytorch_in_a_fused_loop) {
  namespace r = reference::clamp_affine;
  constexpr auto P = tl::param<"P", double, 5, 7>;
  constexpr auto C = tl::param<"C", double, 7>;
  constexpr auto A = tl::input<"A", double, 5, 7>;
  constexpr auto B = tl::input<"B", double, 5, 7>;
  constexpr auto loss = tl::sum(tl::clamp(A * P + C, 0.0, 1.0) * B);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"C">(), r::C);
  tl::tensor<double, 5, 7> a, b;
  test::fill(a, r::A);
  test::fill(b, r::B);
  test::check_close("loss", program.step(params, A = a, B = b), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_close("dC", params.grad<"C">(), r::grad_C, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, A = a, B = b);
}

BOOST_AUTO_TEST_CASE(where_sends_the_gradient_to_the_chosen_branch_as_pytorch) {
  namespace r = reference::where_branches;
  constexpr auto P = tl::param<"P", double, 5, 7>;
  constexpr auto A = tl::input<"A", double, 5, 7>;
  constexpr auto B = tl::input<"B", double, 5, 7>;
  constexpr auto loss = tl::sum(tl::where(A > P, P * P, tl::tanh(P) * B));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  tl::tensor<double, 5, 7> a, b;
  test::fill(a, r::A);
  test::fill(b, r::B);
  test::check_close("loss", program.step(params, A = a, B = b), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, A = a, B = b);
}

BOOST_AUTO_TEST_CASE(clamp_with_tensor_bounds_sends_gradients_to_the_bound_that_holds) {
  namespace r = reference::clamp_tensor_bounds;
  constexpr auto P = tl::param<"P", double, 5, 7>;
  constexpr auto Lo = tl::param<"Lo", double, 5, 7>;
  constexpr auto Hi = tl::param<"Hi", double, 5, 7>;
  constexpr auto A = tl::input<"A", double, 5, 7>;
  constexpr auto loss = tl::sum(tl::clamp(P, Lo, Hi) * A);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"Lo">(), r::Lo);
  test::fill(params.get<"Hi">(), r::Hi);
  tl::tensor<double, 5, 7> a;
  test::fill(a, r::A);
  test::check_close("loss", program.step(params, A = a), r::loss, tolerance);
  test::check_close("dP", params.grad<"P">(), r::grad_P, tolerance);
  test::check_close("dLo", params.grad<"Lo">(), r::grad_Lo, tolerance);
  test::check_close("dHi", params.grad<"Hi">(), r::grad_Hi, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, A = a);
}

#include "../reference/functions_compiled.inc"

// The special functions in a compiled program's fused loops (SIMD lanes and
// scalar tail: rows of 9), values and gradients against PyTorch.
BOOST_AUTO_TEST_CASE(special_functions_in_a_compiled_program_match_pytorch) {
  namespace r = reference::functions_compiled;
  constexpr auto P = tl::param<"P", double, 4, 9>;
  constexpr auto Q = tl::param<"Q", double, 4, 9>;
  constexpr auto loss =
      tl::sum(tl::erf(P) * tl::erfc(Q) + tl::normal_cdf(P * Q) + tl::atan(Q) * tl::asin(P) + tl::acos(P) / Q +
              tl::atan2(P, Q) + tl::sinh(P) * tl::cosh(0.5 * Q) + tl::asinh(Q * P) + tl::log1p(Q) + tl::expm1(P) +
              tl::hypot(P, Q) + tl::cbrt(Q) + tl::pi * P);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"P">(), r::P);
  test::fill(params.get<"Q">(), r::Q);
  test::check_close("loss", program.step(params), r::loss, 1e-11);
  test::check_close("dP", params.grad<"P">(), r::grad_P, 1e-11);
  test::check_close("dQ", params.grad<"Q">(), r::grad_Q, 1e-11);
  test::check_finite_differences(program, params, fd_step, fd_tolerance);
}
