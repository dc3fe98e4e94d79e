// tl::to_compact_string and tl::to_latex: powers and like terms collected,
// shared subexpressions printed once in a `where` block.
#define BOOST_TEST_MODULE debug_compact_print
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <string>

namespace tl = tapeless;
using namespace tl::literals;

namespace {
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
constexpr tl::print_options unshared{.share_subexpressions = false};
}  // namespace

BOOST_AUTO_TEST_CASE(repeated_factors_are_collected_into_powers) {
  BOOST_TEST(tl::to_compact_string(x * x * x) == "x^3");
  BOOST_TEST(tl::to_compact_string(x * y / x) == "y");
  BOOST_TEST(tl::to_compact_string(y / (2_c + x * x) / (2_c + x * x), unshared) == "y/(x^2 + 2)^2");
  BOOST_TEST(tl::to_compact_string(tl::square(x) * tl::pow(x, 3_c) / y / y) == "x^5/y^2");
  BOOST_TEST(tl::to_compact_string(tl::pow(x * tl::square(y), 3_c)) == "x^3*y^6");
  // (x^2)^(1/2) is |x|, not x: a fractional power is not distributed.
  BOOST_TEST(tl::to_compact_string(tl::pow(tl::square(x), 1_c / 2_c)) == "(x^2)^(1/2)");
}

BOOST_AUTO_TEST_CASE(like_terms_and_coefficients_are_collected) {
  BOOST_TEST(tl::to_compact_string(x * y - 3_c + 2_c * (y * x)) == "3*x*y - 3");
  BOOST_TEST(tl::to_compact_string(x - x) == "0");
  BOOST_TEST(tl::to_compact_string(1_c - y) == "1 - y");
  BOOST_TEST(tl::to_compact_string(tl::c<1, 3> * x) == "x/3");
  BOOST_TEST(tl::to_compact_string(-(2_c * x) / (3_c * y)) == "-2*x/(3*y)");
  BOOST_TEST(tl::to_compact_string(0.25 * x + 0.5 * x) == "0.75*x");
}

BOOST_AUTO_TEST_CASE(a_subexpression_used_twice_is_printed_once_as_a_temporary) {
  const auto q = 2_c + tl::square(x);
  const auto g2 = tl::d(tl::d(x / q, x), x);
  BOOST_TEST(tl::to_compact_string(g2) == "-4*x/t0^2 - 2*x*(1/t0^2 - 4*x^2/t0^3)\nwhere\n  t0 = x^2 + 2");
  BOOST_TEST(tl::to_compact_string(g2, unshared) ==
             "-4*x/(x^2 + 2)^2 - 2*x*(1/(x^2 + 2)^2 - 4*x^2/(x^2 + 2)^3)");
  // Only where a name shortens the text: exp(x) and x*y, used twice, are not named.
  BOOST_TEST(tl::to_compact_string(tl::d(tl::d(tl::sin(x * y) * tl::exp(x), x), y)) ==
             "x*(t0 - sin(x*y)*exp(x)*y) + t0\nwhere\n  t0 = cos(x*y)*exp(x)");
  // Temporaries are defined children first.
  const auto s = tl::sin(x * y + y * y + 1_c);
  BOOST_TEST(tl::to_compact_string(tl::d(tl::exp(s) * s, x)) ==
             "y*cos(t0)*(t1*sin(t0) + t1)\nwhere\n  t0 = x*y + y^2 + 1\n  t1 = exp(sin(t0))");
  // Used once: no temporary.
  BOOST_TEST(tl::to_compact_string(tl::sin(x * y) + 1_c) == "sin(x*y) + 1");
}

BOOST_AUTO_TEST_CASE(temporaries_avoid_the_names_of_symbols) {
  constexpr auto t0 = tl::var<"t0">;
  const auto e = tl::sin(t0 * x + y * x) * tl::cos(t0 * x + y * x);
  BOOST_TEST(tl::to_compact_string(e) == "sin(u0)*cos(u0)\nwhere\n  u0 = t0*x + y*x");
}

BOOST_AUTO_TEST_CASE(a_derivative_with_plain_numbers_prints_its_numbers) {
  const auto f = tl::exp(0.3 * x) / (2.0 + x);
  BOOST_TEST(tl::to_compact_string(tl::d(f, x), unshared) ==
             "0.3*exp(0.3*x)/(x + 2) - exp(0.3*x)/(x + 2)^2");
}

BOOST_AUTO_TEST_CASE(latex_uses_fractions_powers_and_function_names) {
  BOOST_TEST(tl::to_latex(x * x * x) == "x^{3}");
  BOOST_TEST(tl::to_latex(tl::sin(x) / (1_c + tl::square(y))) == "\\frac{\\sin{\\left(x\\right)}}{y^{2} + 1}");
  BOOST_TEST(tl::to_latex(tl::exp(-x) * tl::c<-1, 2>) == "- \\frac{e^{- x}}{2}");
  BOOST_TEST(tl::to_latex(tl::sqrt(x) + tl::pi * tl::atan(y)) == "\\sqrt{x} + \\pi \\arctan{\\left(y\\right)}");
  BOOST_TEST(tl::to_latex(tl::pow(x, 1_c / 2_c) * tl::var<"w1">) == "x^{\\frac{1}{2}} w_{1}");
  const auto q = 2_c + tl::square(x);
  BOOST_TEST(tl::to_latex(tl::d(tl::d(x / q, x), x)) ==
             "- \\frac{4 x}{t_{0}^{2}} - 2 x \\left(\\frac{1}{t_{0}^{2}} - \\frac{4 x^{2}}{t_{0}^{3}}\\right) "
             "\\quad \\text{where} \\quad t_{0} = x^{2} + 2");
}
