#define BOOST_TEST_MODULE debug_to_string
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;
using namespace tl::literals;

namespace {
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
constexpr auto z = tl::var<"z">;
}  // namespace

BOOST_AUTO_TEST_CASE(expressions_print_as_written_with_minimal_parentheses) {
  BOOST_TEST(tl::to_string(x + y * z) == "x + y*z");
  BOOST_TEST(tl::to_string((x + y) * z) == "(x + y)*z");
  BOOST_TEST(tl::to_string(x - (y - z)) == "x - (y - z)");
  BOOST_TEST(tl::to_string((x - y) - z) == "x - y - z");
  BOOST_TEST(tl::to_string(x / (y * z)) == "x/(y*z)");
  BOOST_TEST(tl::to_string(x / y * z) == "x/y*z");
  BOOST_TEST(tl::to_string(-(x + y)) == "-(x + y)");
  BOOST_TEST(tl::to_string(tl::pow(x + y, 2_c)) == "(x + y)^2");
  BOOST_TEST(tl::to_string(tl::pow(x, 1_c / 2_c)) == "x^(1/2)");
  BOOST_TEST(tl::to_string(tl::pow(tl::pow(x, 2_c), 3_c)) == "(x^2)^3");
  BOOST_TEST(tl::to_string(tl::pow(x, y)) == "x^y");
}

BOOST_AUTO_TEST_CASE(functions_and_constants_print_readably) {
  BOOST_TEST(tl::to_string(tl::sin(x * y) + tl::exp(x) / y) == "sin(x*y) + exp(x)/y");
  BOOST_TEST(tl::to_string(tl::max(x, 0.5)) == "max(x, 0.5)");
  BOOST_TEST(tl::to_string(tl::sigmoid(-x)) == "sigmoid(-x)");
  BOOST_TEST(tl::to_string(x * 0.25) == "x*0.25");
  BOOST_TEST(tl::to_string(x + -0.25) == "x - 0.25");
  BOOST_TEST(tl::to_string(x * tl::c<-3>) == "x*(-3)");
  BOOST_TEST(tl::to_string(tl::c<1, 3> * x) == "(1/3)*x");
  BOOST_TEST(tl::to_string(tl::pow(x, 3)) == "x^3");
}

BOOST_AUTO_TEST_CASE(symbol_names_print_as_given) {
  constexpr auto w = tl::param<"fc1.weight", float, 3, 2>;
  BOOST_TEST(tl::to_string(w * 2_c) == "fc1.weight*2");
}

BOOST_AUTO_TEST_CASE(comparisons_where_and_clamp_print_readably) {
  BOOST_TEST(tl::to_string(x + 1_c < y * z) == "x + 1 < y*z");
  BOOST_TEST(tl::to_string((x < y) * z) == "(x < y)*z");
  BOOST_TEST(tl::to_string(x >= -y) == "x >= -y");
  BOOST_TEST(tl::to_string(tl::where(x <= y, x * 2.5, tl::sin(y))) == "where(x <= y, x*2.5, sin(y))");
  BOOST_TEST(tl::to_string(tl::clamp(x, 0_c, y + z)) == "clamp(x, 0, y + z)");
  BOOST_TEST(tl::to_string(tl::d(tl::clamp(x, 0_c, 1_c), x)) == "where((x >= 0)*(x <= 1), 1, 0)");
  BOOST_TEST(tl::to_string(tl::d(tl::where(x > y, tl::sin(x), y), x)) == "cos(x)*where(x > y, 1, 0)");
}
