// tl::hessian and tl::jacobian against SymPy (tests/reference/jacobian_hessian.py).
#define BOOST_TEST_MODULE diff_jacobian_hessian
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <array>
#include <cmath>
#include <tuple>
#include <type_traits>

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

namespace {

constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
constexpr auto z = tl::var<"z">;

#include "reference/jacobian_hessian.inc"

// The formulas of the generator, word for word.
const auto f = x * y * tl::sin(z) + tl::exp(x * z) / y + 0.5 * x * x * z;
const auto g0 = x * y * z;
const auto g1 = tl::sin(x) + y * y * 0.25 - z;
const auto g2 = tl::log(x * x + y * y + z * z);

constexpr std::array variables{0, 1, 2};

}  // namespace

BOOST_AUTO_TEST_CASE(hessian_matches_sympy_and_is_symmetric) {
  const auto h = tl::hessian(f, x, y, z);
  for (const auto& ref : hessian_references) {
    const auto v = h(x = ref.at[0], y = ref.at[1], z = ref.at[2]);
    BOOST_TEST(v.value == ref.value, tt::tolerance(1e-13));
    BOOST_TEST(v[x] == ref.gradient[0], tt::tolerance(1e-13));
    BOOST_TEST(v[y] == ref.gradient[1], tt::tolerance(1e-13));
    BOOST_TEST(v[z] == ref.gradient[2], tt::tolerance(1e-13));
    for (int i : variables)
      for (int j : variables) BOOST_TEST(v.matrix[3 * i + j] == ref.hessian[3 * i + j], tt::tolerance(1e-12));
    BOOST_TEST(v(x, z) == ref.hessian[2], tt::tolerance(1e-12));
    BOOST_TEST(v(z, x) == v(x, z));  // one derivation for the pair
    BOOST_TEST(v(y, y) == ref.hessian[4], tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(hessian_entries_are_expressions_shared_by_both_orders) {
  const auto h = tl::hessian(f, x, y, z);
  static_assert(std::is_same_v<decltype(h.at(x, y)), decltype(h.at(y, x))>);
  const auto& ref = hessian_references[0];
  BOOST_TEST(h.at(x, y)(x = ref.at[0], y = ref.at[1], z = ref.at[2]) == ref.hessian[1], tt::tolerance(1e-12));
  // The same as differentiating twice.
  BOOST_TEST(h.at(y, z)(x = ref.at[0], y = ref.at[1], z = ref.at[2]) ==
                 tl::d(tl::d(f, y), z)(x = ref.at[0], y = ref.at[1], z = ref.at[2]),
             tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(jacobian_of_several_functions_matches_sympy) {
  const auto j = tl::jacobian(std::tuple{g0, g1, g2, f}, x, y, z);
  for (const auto& ref : jacobian_references) {
    const auto v = j(x = ref.at[0], y = ref.at[1], z = ref.at[2]);
    for (std::size_t row = 0; row < 4; ++row) {
      BOOST_TEST(v.values[row] == ref.values[row], tt::tolerance(1e-13));
      for (int col : variables)
        BOOST_TEST(v.partials[row * 3 + col] == ref.jacobian[row * 3 + col], tt::tolerance(1e-12));
    }
    BOOST_TEST(v(2, y) == ref.jacobian[7], tt::tolerance(1e-12));
    BOOST_TEST(j.at<1>(x)(x = ref.at[0], y = ref.at[1], z = ref.at[2]) == ref.jacobian[3], tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(jvp_is_the_gradient_along_the_tangent) {
  const auto along = tl::jvp(f, x = 1.0, y = 0.5, z = -2.0);
  const auto along_x = tl::jvp(f, x = 1.0);  // y and z held still
  for (const auto& ref : hessian_references) {
    const double want = ref.gradient[0] + 0.5 * ref.gradient[1] - 2.0 * ref.gradient[2];
    BOOST_TEST(along(x = ref.at[0], y = ref.at[1], z = ref.at[2]) == want, tt::tolerance(1e-12));
    BOOST_TEST(along_x(x = ref.at[0], y = ref.at[1], z = ref.at[2]) == ref.gradient[0], tt::tolerance(1e-12));
  }
  // Along a direction f does not depend on, nothing; and the jvp of a jvp is
  // the Hessian applied twice.
  BOOST_TEST(tl::jvp(x * x, y = 3.0)(x = 2.0) == 0.0);
  const auto& ref = hessian_references[0];
  const auto twice = tl::jvp(tl::jvp(f, x = 1.0), z = 1.0);
  BOOST_TEST(twice(x = ref.at[0], y = ref.at[1], z = ref.at[2]) == ref.hessian[2], tt::tolerance(1e-12));
}
