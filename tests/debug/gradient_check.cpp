#define BOOST_TEST_MODULE debug_gradient_check
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>

namespace tl = tapeless;
using namespace tl::literals;

namespace {
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
}  // namespace

BOOST_AUTO_TEST_CASE(finite_difference_approximates_the_derivative) {
  const double fd = tl::finite_difference(tl::sin(x) * y, x, x = 0.7, y = 2.0);
  BOOST_TEST(fd == 2.0 * std::cos(0.7), boost::test_tools::tolerance(1e-10));
}

BOOST_AUTO_TEST_CASE(check_gradient_accepts_a_correct_gradient) {
  const auto result = tl::check_gradient(tl::exp(x * y) / (1_c + x * x), tl::with_respect_to(x, y),
                                         x = 0.3, y = -1.2);
  BOOST_TEST(result.passed(1e-9));
  BOOST_TEST(result.max_rel_error < 1e-9);
}

BOOST_AUTO_TEST_CASE(check_gradient_reports_a_wrong_gradient) {
  // relu's derivative is a step: finite differences across the kink disagree
  // with it, and the check must say so and name the symbol.
  const auto result =
      tl::check_gradient(y + tl::relu(x), tl::with_respect_to(y, x), x = 0.0, y = 1.0);
  BOOST_TEST(!result.passed(1e-3));
  BOOST_TEST(result.worst == 1u);
  BOOST_TEST(result.max_abs_error == 0.5, boost::test_tools::tolerance(1e-6));
}
