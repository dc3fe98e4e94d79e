// Tapeless's derivatives of the formulas in tests/reference/scalar_derivatives.py
// against SymPy's, against finite differences, and at compile time. The checks
// themselves are in sympy_catalogue.hpp; sympy_catalogue_part_N.cpp run them
// on slices of the catalogue.
#define BOOST_TEST_MODULE diff_sympy_catalogue
#include "diff/sympy_catalogue.hpp"

namespace sympy_catalogue {
namespace {

BOOST_AUTO_TEST_CASE(catalogue_holds_at_least_60_formulas) {
  BOOST_TEST(catalogue_size >= 60u);
}

BOOST_AUTO_TEST_CASE(values_match_sympy) { check_catalogue(aspect::values); }

BOOST_AUTO_TEST_CASE(first_derivatives_match_sympy) {
  check_catalogue(aspect::first_derivatives);
}

BOOST_AUTO_TEST_CASE(second_derivatives_match_sympy) {
  check_catalogue(aspect::second_derivatives);
}

BOOST_AUTO_TEST_CASE(derivatives_match_finite_differences_at_random_points) {
  check_catalogue(aspect::finite_differences);
}

// ---- at compile time ------------------------------------------------------------

// The value, every first and every second derivative of the entry at its
// first reference point, computed during compilation.
template <class Entry>
constexpr bool matches_sympy_at_compile_time() {
  constexpr std::size_t n = arity<Entry>;
  constexpr auto point = Entry::points[0];
  bool ok = relative_error(evaluate_at<Entry>(Entry::f, point.at), point.value) <= sympy_tolerance;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((ok = ok && relative_error(evaluate_at<Entry>(first_derivative<Entry, I>, point.at),
                                point.first[I]) <= sympy_tolerance),
     ...);
  }(std::make_index_sequence<n>{});
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((ok = ok && relative_error(evaluate_at<Entry>(second_derivative<Entry, K / n, K % n>, point.at),
                                point.second[K]) <= sympy_tolerance),
     ...);
  }(std::make_index_sequence<n * n>{});
  return ok;
}

// A failure names the entry in the instantiation context: compile_time_check<17>.
template <std::size_t Index>
struct compile_time_check {
  using Entry = entry<Index>;
  static constexpr bool applies = Entry::evaluates_at_compile_time;
  static constexpr bool passed = [] {
    if constexpr (applies)
      return matches_sympy_at_compile_time<Entry>();
    else
      return true;
  }();
  static_assert(passed,
                "diff_sympy_catalogue: a value or derivative of the catalogue entry named in "
                "compile_time_check<...> above, computed at compile time, differs from SymPy's");
};

template <std::size_t... Index>
constexpr std::size_t checked_at_compile_time(std::index_sequence<Index...>) {
  return (std::size_t{0} + ... + (compile_time_check<Index>::applies ? 1 : 0));
}

// Polynomials and rational functions, and formulas made of abs, relu, max and
// min, evaluate their derivatives in constant expressions: each is checked
// against SymPy by a static_assert (in compile_time_check).
BOOST_AUTO_TEST_CASE(polynomial_derivatives_are_constexpr) {
  constexpr std::size_t checked =
      checked_at_compile_time(std::make_index_sequence<catalogue_size>{});
  static_assert(checked >= 10, "the catalogue should hold at least ten constexpr formulas");
  BOOST_TEST_MESSAGE(checked << " formulas checked against SymPy at compile time");

  // Two by hand, to show what the generic check does.
  constexpr auto p = x * x * x - 2_c * x + 1_c;
  static_assert(tl::d(p, x)(x = 2.0) == 10.0);
  static_assert(tl::d(tl::d(p, x), x)(x = 2.0) == 12.0);
  constexpr auto r = (x * y + 1_c) / (x - y);
  static_assert(relative_error(tl::d(r, y)(x = 1.0, y = -1.0), 0.5) <= 1e-15);  // (x^2 + 1)/(x - y)^2
  BOOST_TEST(checked >= 10u);
}

}  // namespace
}  // namespace sympy_catalogue
