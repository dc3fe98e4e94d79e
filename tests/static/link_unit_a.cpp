// Two translation units that include the whole library and use the same
// expressions: a missing `inline` would be a duplicate symbol at link time.
// And two units that compile programs whose graphs differ only in types the
// compiler prints alike (compile/schedule_key.hpp): each must run its own.
#define BOOST_TEST_MODULE link_two_units
#include <boost/test/unit_test.hpp>

#include <string_view>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value);
float scaled_in_unit_b(float x_value);

BOOST_AUTO_TEST_CASE(two_units_using_the_library_link_and_agree) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  BOOST_TEST(f(x = 0.3) == derivative_in_unit_b(0.3));
  BOOST_TEST(tl::to_string(f) != "");
}

namespace {

// Also in link_unit_b.cpp, as x + x + x: both print as
// `{anonymous}::scaled_op`, so the two programs' schedules have one key.
struct scaled_op : tl::elementwise_operation {
  static constexpr std::string_view name = "scaled";
  static constexpr auto apply(auto x) { return x + x; }
};
}  // namespace

#include "link_unit_program.hpp"

BOOST_AUTO_TEST_CASE(programs_whose_operations_print_alike_in_two_units_each_run_their_own) {
  BOOST_TEST(scaled_product(0.5f) == 96.f);      // 2 * 96 * 0.5
  BOOST_TEST(scaled_in_unit_b(0.5f) == 144.f);   // 3 * 96 * 0.5
}
