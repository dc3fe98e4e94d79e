#define BOOST_TEST_MODULE core_rational
#include <boost/test/unit_test.hpp>

#include <tapeless/core/rational.hpp>

using tapeless::rational;

BOOST_AUTO_TEST_CASE(rationals_are_kept_in_lowest_terms_with_positive_denominator) {
  static_assert(tapeless::normalized(6, -4) == rational{-3, 2});
  BOOST_TEST((tapeless::normalized(0, 7) == rational{0, 1}));
  BOOST_TEST((tapeless::normalized(-10, -5) == rational{2, 1}));
}

BOOST_AUTO_TEST_CASE(rational_arithmetic_is_exact) {
  constexpr rational half{1, 2}, third{1, 3};
  static_assert(half + third == rational{5, 6});
  static_assert(half - third == rational{1, 6});
  static_assert(half * third == rational{1, 6});
  static_assert(half / third == rational{3, 2});
  static_assert(tapeless::power(rational{2, 3}, 3) == rational{8, 27});
  static_assert(tapeless::power(rational{2, 3}, -2) == rational{9, 4});
  BOOST_TEST((rational{1, 4}.as<double>() == 0.25));
  BOOST_TEST((third < half));
}
