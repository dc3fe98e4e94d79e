// Larger seeded random formulas (tests/reference/random_formulas_large.py):
// about 40 nodes to the second order and about 20 to the third, with log and
// pow, against SymPy to 1e-9. The targets are per formula (5 s for a
// second derivative of 40 nodes, 10 s for a third of 20, g++ -O1); this file's
// compile time is recorded in bench/results/compile_time.md.
#define BOOST_TEST_MODULE diff_random_formulas_large
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <utility>

namespace tl = tapeless;
using namespace tl::literals;

namespace {

constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;

template <std::size_t I>
struct second_order_formula;
template <std::size_t I>
struct third_order_formula;

#include "reference/random_formulas_large.inc"

// Relative to the reference, absolute near zero: some derivatives vanish.
bool agrees(double computed, double reference) {
  return std::abs(computed - reference) <= 1e-9 * std::max(1.0, std::abs(reference));
}

template <class Row, class... Values>
void check_row(const char* family, std::size_t index, const Row& row, const Values&... computed) {
  static constexpr const char* names[] = {"f", "df/dx", "d2f/dxdy", "d2f/dx2", "d3f/dx2dy", "d3f/dxdy2"};
  std::size_t k = 0;
  (
      [&](double value) {
        BOOST_TEST_CONTEXT(family << " formula " << index << ", " << names[k] << " at (" << row[0]
                                  << ", " << row[1] << "): " << value << " against SymPy's "
                                  << row[2 + k]) {
          BOOST_TEST(agrees(value, row[2 + k]));
        }
        ++k;
      }(computed),
      ...);
}

template <std::size_t I>
void check_second_order() {
  using F = second_order_formula<I>;
  const auto fx = tl::d(F::f, x);
  const auto fxy = tl::d(fx, y);
  const auto fxx = tl::d(fx, x);
  for (const auto& row : F::reference) {
    const auto at = [&](const auto& e) { return e(x = row[0], y = row[1]); };
    check_row("second-order", I, row, at(F::f), at(fx), at(fxy), at(fxx));
  }
}

template <std::size_t I>
void check_third_order() {
  using F = third_order_formula<I>;
  const auto fx = tl::d(F::f, x);
  const auto fxy = tl::d(fx, y);
  const auto fxx = tl::d(fx, x);
  const auto fxxy = tl::d(fxx, y);
  const auto fxyy = tl::d(fxy, y);
  for (const auto& row : F::reference) {
    const auto at = [&](const auto& e) { return e(x = row[0], y = row[1]); };
    check_row("third-order", I, row, at(F::f), at(fx), at(fxy), at(fxx), at(fxxy), at(fxyy));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(formulas_of_forty_nodes_match_sympy_to_the_second_order) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check_second_order<I>(), ...);
  }(std::make_index_sequence<second_order_count>{});
}

BOOST_AUTO_TEST_CASE(formulas_of_twenty_nodes_match_sympy_to_the_third_order) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (check_third_order<I>(), ...);
  }(std::make_index_sequence<third_order_count>{});
}
