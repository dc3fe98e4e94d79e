#define BOOST_TEST_MODULE diff_derivatives
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

namespace {
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
}  // namespace

BOOST_AUTO_TEST_CASE(derivative_of_a_symbol_by_itself_is_one_and_by_another_is_zero) {
  static_assert(std::is_same_v<decltype(tl::d(x, x)), const tl::exact_constant<tl::rational{1, 1}>> ||
                std::is_same_v<decltype(tl::d(x, x)), tl::exact_constant<tl::rational{1, 1}>>);
  BOOST_TEST(tl::d(x, y)(x = 1.0, y = 2.0) == 0.0);
  BOOST_TEST(tl::d(tl::sin(x), y)(x = 1.0) == 0.0);
}

BOOST_AUTO_TEST_CASE(derivatives_are_constexpr_for_polynomials) {
  constexpr auto f = x * x * x * y - 3_c * x * y * y + 7_c;
  static_assert(tl::d(f, x)(x = 2.0, y = 3.0) == 3 * 4 * 3 - 3 * 9);
  static_assert(tl::d(f, y)(x = 2.0, y = 3.0) == 8 - 6 * 2 * 3);
  static_assert(tl::d(tl::d(f, x), y)(x = 2.0, y = 3.0) == 3 * 4 - 6 * 3);
  static_assert(tl::d(tl::d(tl::d(f, x), x), x)(x = 5.0, y = 3.0) == 6 * 3);
  static_assert(tl::d(tl::d(tl::d(tl::d(f, x), x), x), x)(x = 5.0, y = 3.0) == 0);
  BOOST_TEST(tl::d(f, x)(x = 2.0, y = 3.0) == 9.0);
}

BOOST_AUTO_TEST_CASE(derivatives_of_rational_functions_are_constexpr) {
  constexpr auto f = x / (x * x + 1_c);
  // (1 - x^2) / (x^2 + 1)^2 at x = 2: -3/25, to rounding (the evaluator
  // multiplies by one reciprocal of the shared denominator)
  constexpr double error = tl::d(f, x)(x = 2.0) / (-3.0 / 25.0) - 1;
  static_assert(error < 1e-15 && error > -1e-15);
}

BOOST_AUTO_TEST_CASE(every_elementary_derivative_matches_its_formula) {
  const double v = 0.4, w = 1.3;
  BOOST_TEST(tl::d(tl::exp(x), x)(x = v) == std::exp(v));
  BOOST_TEST(tl::d(tl::log(x), x)(x = v) == 1 / v, tt::tolerance(1e-15));
  BOOST_TEST(tl::d(tl::sin(x), x)(x = v) == std::cos(v));
  BOOST_TEST(tl::d(tl::cos(x), x)(x = v) == -std::sin(v));
  BOOST_TEST(tl::d(tl::tan(x), x)(x = v) == 1 / (std::cos(v) * std::cos(v)), tt::tolerance(1e-14));
  BOOST_TEST(tl::d(tl::tanh(x), x)(x = v) == 1 - std::tanh(v) * std::tanh(v), tt::tolerance(1e-15));
  const double s = 1 / (1 + std::exp(-v));
  BOOST_TEST(tl::d(tl::sigmoid(x), x)(x = v) == s * (1 - s), tt::tolerance(1e-15));
  BOOST_TEST(tl::d(tl::sqrt(x), x)(x = v) == 0.5 / std::sqrt(v), tt::tolerance(1e-15));
  BOOST_TEST(tl::d(tl::square(x), x)(x = v) == 2 * v);
  BOOST_TEST(tl::d(tl::abs(x), x)(x = -v) == -1.0);
  BOOST_TEST(tl::d(tl::relu(x), x)(x = v) == 1.0);
  BOOST_TEST(tl::d(tl::relu(x), x)(x = -v) == 0.0);
  BOOST_TEST(tl::d(tl::relu(x), x)(x = 0.0) == 0.0);  // PyTorch's choice at the kink
  BOOST_TEST(tl::d(tl::pow(x, 2.5), x)(x = w) == 2.5 * std::pow(w, 1.5), tt::tolerance(1e-15));
  BOOST_TEST(tl::d(tl::pow(x, y), y)(x = w, y = v) == std::pow(w, v) * std::log(w), tt::tolerance(1e-15));
  BOOST_TEST(tl::d(tl::pow(x, y), x)(x = w, y = v) == v * std::pow(w, v - 1), tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(max_and_min_send_the_adjoint_to_the_selected_operand) {
  BOOST_TEST(tl::d(tl::max(x, y), x)(x = 2.0, y = 1.0) == 1.0);
  BOOST_TEST(tl::d(tl::max(x, y), y)(x = 2.0, y = 1.0) == 0.0);
  BOOST_TEST(tl::d(tl::min(x, y), x)(x = 2.0, y = 1.0) == 0.0);
  BOOST_TEST(tl::d(tl::min(x, y), y)(x = 2.0, y = 1.0) == 1.0);
  // A tie splits it evenly, as torch.maximum does.
  BOOST_TEST(tl::d(tl::max(x, y), x)(x = 1.0, y = 1.0) == 0.5);
  BOOST_TEST(tl::d(tl::max(x, y), y)(x = 1.0, y = 1.0) == 0.5);
}

BOOST_AUTO_TEST_CASE(grad_gives_every_partial_from_one_pass) {
  constexpr auto f = tl::sin(x * y) + tl::exp(x) / y;
  constexpr auto g = tl::grad(f, x, y);
  const auto at = g(x = 0.5, y = 2.0);
  BOOST_TEST(at.value == f(x = 0.5, y = 2.0));
  BOOST_TEST(at[x] == tl::d(f, x)(x = 0.5, y = 2.0));
  BOOST_TEST(at[y] == tl::d(f, y)(x = 0.5, y = 2.0));
  BOOST_TEST(at[x] == 2.0 * std::cos(1.0) + std::exp(0.5) / 2.0, tt::tolerance(1e-15));
  BOOST_TEST(g[y](x = 0.5, y = 2.0) == at[y]);
  BOOST_TEST(g.size == 2u);
}

BOOST_AUTO_TEST_CASE(derivatives_with_run_time_constants_keep_each_value) {
  const auto f = 0.5 * x * x + 0.7 * x;
  BOOST_TEST(tl::d(f, x)(x = 2.0) == 0.5 * 2 * 2.0 + 0.7, tt::tolerance(1e-15));
  const double a = 1.5, b = -2.0;
  const auto g = tl::sin(a * x) + tl::sin(b * x);
  BOOST_TEST(tl::d(g, x)(x = 0.3) == a * std::cos(a * 0.3) + b * std::cos(b * 0.3), tt::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(derivatives_nest_to_any_order) {
  constexpr auto f = tl::exp(2_c * x);
  constexpr auto d5 = tl::d(tl::d(tl::d(tl::d(tl::d(f, x), x), x), x), x);
  BOOST_TEST(d5(x = 0.3) == 32 * std::exp(0.6), tt::tolerance(1e-14));
  constexpr auto h = tl::sin(x) * tl::cos(y);
  BOOST_TEST(tl::d(tl::d(h, x), y)(x = 0.2, y = 0.9) == -std::cos(0.2) * std::sin(0.9), tt::tolerance(1e-15));
}

namespace {
#include "reference/clamp_where_ties.inc"
}  // namespace

BOOST_AUTO_TEST_CASE(where_sends_the_adjoint_to_the_chosen_branch_as_torch) {
  constexpr auto f = tl::where(x < y, x * y, x + 2_c * y);
  const auto g = tl::grad(f, x, y);
  for (const auto& row : torch_where_ties) {
    const auto v = g(x = row[0], y = row[1]);
    BOOST_TEST(v.value == row[2]);
    BOOST_TEST(v[x] == row[3]);
    BOOST_TEST(v[y] == row[4]);
  }
}

BOOST_AUTO_TEST_CASE(clamp_gradients_follow_torch_at_the_bounds_and_when_lo_exceeds_hi) {
  constexpr auto lo = tl::var<"lo">;
  constexpr auto hi = tl::var<"hi">;
  constexpr auto f = tl::clamp(x, lo, hi);
  const auto g = tl::grad(f, x, lo, hi);
  for (const auto& row : torch_clamp_ties) {
    const auto v = g(x = row[0], lo = row[1], hi = row[2]);
    BOOST_TEST(v.value == row[3]);
    BOOST_TEST(v[x] == row[4]);
    BOOST_TEST(v[lo] == row[5]);
    BOOST_TEST(v[hi] == row[6]);
    BOOST_TEST(tl::d(f, x)(x = row[0], lo = row[1], hi = row[2]) == row[4]);
  }
}

BOOST_AUTO_TEST_CASE(nodes_of_three_operands_differentiate_with_run_time_constants_in_each) {
  // d/dx and d2/dx2 of clamp(0.5*x*x, 0.25*y, 2.0 + y), in each of its regions.
  const auto f = tl::clamp(0.5 * x * x, 0.25 * y, 2.0 + y);
  const auto fx = tl::d(f, x);
  const auto fxx = tl::d(fx, x);
  const auto fy = tl::d(f, y);
  // inside: 0.25*y < 0.5*x^2 < 2 + y
  BOOST_TEST(f(x = 1.0, y = 1.0) == 0.5);
  BOOST_TEST(fx(x = 1.0, y = 1.0) == 1.0);
  BOOST_TEST(fxx(x = 1.0, y = 1.0) == 1.0);
  BOOST_TEST(fy(x = 1.0, y = 1.0) == 0.0);
  // below: the lower bound 0.25*y
  BOOST_TEST(f(x = 0.5, y = 2.0) == 0.5);
  BOOST_TEST(fx(x = 0.5, y = 2.0) == 0.0);
  BOOST_TEST(fy(x = 0.5, y = 2.0) == 0.25);
  // above: the upper bound 2 + y
  BOOST_TEST(f(x = 3.0, y = 1.0) == 3.0);
  BOOST_TEST(fx(x = 3.0, y = 1.0) == 0.0);
  BOOST_TEST(fy(x = 3.0, y = 1.0) == 1.0);
  const auto g = tl::grad(f, x, y)(x = 1.0, y = 1.0);
  BOOST_TEST(g[x] == 1.0);
  BOOST_TEST(g[y] == 0.0);
}

BOOST_AUTO_TEST_CASE(comparisons_have_zero_derivative_and_fold_when_exact) {
  BOOST_TEST(tl::d(x < y, x)(x = 1.0, y = 2.0) == 0.0);
  BOOST_TEST(tl::d((x >= y) * x, x)(x = 3.0, y = 2.0) == 1.0);
  static_assert(std::is_same_v<decltype(tl::simplify(tl::where(1_c < 2_c + x * 0_c, x, y))),
                               std::remove_const_t<decltype(x)>>);
}
