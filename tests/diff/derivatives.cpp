#define BOOST_TEST_MODULE diff_derivatives
#include <boost/test/unit_test.hpp>
#include <tapeless/tapeless.hpp>
BOOST_AUTO_TEST_CASE(todo) { BOOST_TEST(true); }
