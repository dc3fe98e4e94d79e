// Seeded random formulas (tests/reference/random_formulas.py) differentiated
// to the third order against SymPy. Their compile time is recorded in
// bench/results/compile_time.md.
#define BOOST_TEST_MODULE diff_random_formulas
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

namespace {

constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;

template <std::size_t I>
struct formula;

#include "reference/random_formulas.inc"

template <std::size_t I>
void check_formula() {
  using F = formula<I>;
  const auto fx = tl::d(F::f, x);
  const auto fxy = tl::d(fx, y);
  const auto fxxy = tl::d(tl::d(fx, x), y);
  for (const auto& row : F::reference) {
    BOOST_TEST_CONTEXT("formula " << I << " at (" << row[0] << ", " << row[1] << ")") {
      BOOST_TEST(F::f(x = row[0], y = row[1]) == row[2], tt::tolerance(1e-12));
      BOOST_TEST(fx(x = row[0], y = row[1]) == row[3], tt::tolerance(1e-12));
      BOOST_TEST(fxy(x = row[0], y = row[1]) == row[4], tt::tolerance(1e-11));
      BOOST_TEST(fxxy(x = row[0], y = row[1]) == row[5], tt::tolerance(1e-10));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_formulas_match_sympy_to_the_third_order) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check_formula<I>(), ...);
  }(std::make_index_sequence<formula_count>{});
}
