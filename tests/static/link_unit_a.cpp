// Two translation units that include the whole library and use the same
// expressions: a missing `inline` would be a duplicate symbol at link time.
#define BOOST_TEST_MODULE link_two_units
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value);

BOOST_AUTO_TEST_CASE(two_units_using_the_library_link_and_agree) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  BOOST_TEST(f(x = 0.3) == derivative_in_unit_b(0.3));
  BOOST_TEST(tl::to_string(f) != "");
}
