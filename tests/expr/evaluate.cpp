#define BOOST_TEST_MODULE expr_evaluate
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <type_traits>

namespace tl = tapeless;
using namespace tl::literals;

namespace {
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
constexpr auto z = tl::var<"z">;
}  // namespace

BOOST_AUTO_TEST_CASE(bindings_are_accepted_in_any_order) {
  constexpr auto f = x / y - z;
  BOOST_TEST(f(x = 6.0, y = 3.0, z = 1.0) == 1.0);
  BOOST_TEST(f(z = 1.0, y = 3.0, x = 6.0) == 1.0);
  BOOST_TEST(f(y = 3.0, z = 1.0, x = 6.0) == 1.0);
}

BOOST_AUTO_TEST_CASE(bindings_of_unused_symbols_are_allowed) {
  constexpr auto f = x * x;
  BOOST_TEST(f(x = 3.0, y = 100.0) == 9.0);
}

BOOST_AUTO_TEST_CASE(polynomials_and_rationals_evaluate_at_compile_time) {
  constexpr auto f = (x * x - 2_c * x * y + tl::pow(y, 3_c)) / (x + 1_c);
  static_assert(f(x = 1.0, y = 2.0) == (1.0 - 4.0 + 8.0) / 2.0);
  static_assert(tl::square(x - y)(x = 5.0, y = 2.0) == 9.0);
  static_assert(tl::pow(x, tl::c<-2>)(x = 2.0) == 0.25);
  static_assert(tl::abs(x)(x = -2.0) == 2.0);
  static_assert(tl::max(x, y)(x = -2.0, y = 1.0) == 1.0);
  static_assert(tl::min(x, 0.5)(x = 2.0) == 0.5);
  static_assert(tl::relu(x)(x = -3.0) == 0.0);
  BOOST_TEST(f(x = 1.0, y = 2.0) == 2.5);
}

BOOST_AUTO_TEST_CASE(run_time_constants_keep_their_own_values) {
  // Same structure, different numbers: the two terms must not be merged.
  const auto f = 0.5 * x + 0.7 * x;
  BOOST_TEST(f(x = 2.0) == 0.5 * 2.0 + 0.7 * 2.0);
  const double k = 3.25;
  const auto g = tl::pow(x, k) + tl::pow(x, 2);
  BOOST_TEST(g(x = 1.5) == std::pow(1.5, 3.25) + 2.25, boost::test_tools::tolerance(1e-15));
}

BOOST_AUTO_TEST_CASE(elementary_functions_match_the_standard_library) {
  const double v = 0.37;
  BOOST_TEST(tl::exp(x)(x = v) == std::exp(v));
  BOOST_TEST(tl::log(x)(x = v) == std::log(v));
  BOOST_TEST(tl::sin(x)(x = v) == std::sin(v));
  BOOST_TEST(tl::cos(x)(x = v) == std::cos(v));
  BOOST_TEST(tl::tan(x)(x = v) == std::tan(v));
  BOOST_TEST(tl::tanh(x)(x = v) == std::tanh(v));
  BOOST_TEST(tl::sqrt(x)(x = v) == std::sqrt(v));
  BOOST_TEST(tl::sigmoid(x)(x = v) == 1 / (1 + std::exp(-v)), boost::test_tools::tolerance(1e-15));
  BOOST_TEST(tl::sigmoid(x)(x = -800.0) == 0.0);  // no overflow on either side
  BOOST_TEST(tl::sigmoid(x)(x = 800.0) == 1.0);
  BOOST_TEST(tl::pow(x, y)(x = v, y = 1.7) == std::pow(v, 1.7));
  BOOST_TEST(tl::pow(x, 0.5_c)(x = v) == std::sqrt(v));
}

BOOST_AUTO_TEST_CASE(evaluation_type_follows_the_bound_values) {
  constexpr auto f = x * y;
  static_assert(std::is_same_v<decltype(f(x = 1.0f, y = 2.0f)), float>);
  static_assert(std::is_same_v<decltype(f(x = 1.0, y = 2.0f)), double>);
  static_assert(std::is_same_v<decltype(f(x = 1, y = 2)), double>);  // integers promote
  BOOST_TEST(f(x = 3, y = 2) == 6.0);
}

BOOST_AUTO_TEST_CASE(relu_and_max_propagate_nan_like_pytorch) {
  const double nan = std::nan("");
  BOOST_TEST(std::isnan(tl::relu(x)(x = nan)));
  BOOST_TEST(std::isnan(tl::max(x, y)(x = nan, y = 1.0)));
  BOOST_TEST(std::isnan(tl::max(x, y)(x = 1.0, y = nan)));
}

BOOST_AUTO_TEST_CASE(exact_literals_parse_decimal_notation) {
  static_assert(decltype(0.5_c)::value == tl::rational{1, 2});
  static_assert(decltype(1e-3_c)::value == tl::rational{1, 1000});
  static_assert(decltype(2.5e2_c)::value == tl::rational{250, 1});
  static_assert(decltype(42_c)::value == tl::rational{42, 1});
  BOOST_TEST((x * 0.25_c)(x = 2.0) == 0.5);
}

BOOST_AUTO_TEST_CASE(expressions_of_symbols_and_exact_constants_are_empty) {
  constexpr auto f = tl::sin(x * y) + tl::exp(x) / y * 3_c;
  static_assert(std::is_empty_v<decltype(f)>);
  // A subexpression used twice per level would otherwise double the size per level.
  constexpr auto u = x * y;
  constexpr auto v = u * u + u;
  static_assert(std::is_empty_v<decltype(v * v + v)>);
  BOOST_TEST(sizeof(f) == 1u);
}

BOOST_AUTO_TEST_CASE(nodes_of_three_operands_hold_their_run_time_constants_apart) {
  // A run-time constant in each operand, two of them equal in value: each
  // operand reads its own slot after labelling.
  const auto f = tl::where(x - 0.25, x * 2.0, 0.5 + y);
  const auto labelled = tl::label(f);
  BOOST_TEST(labelled.constants.size() == 3u);
  BOOST_TEST(labelled.constants[0] == 0.25);
  BOOST_TEST(labelled.constants[1] == 2.0);
  BOOST_TEST(labelled.constants[2] == 0.5);
  static_assert(std::is_empty_v<typename decltype(labelled)::structure>);
  BOOST_TEST(f(x = 1.5, y = 4.0) == 3.0);
  BOOST_TEST(f(x = 0.25, y = 4.0) == 4.5);  // the condition is 0 exactly: b
  BOOST_TEST(tl::operand_at<2>(f)(y = 4.0) == 4.5);
  using structure = typename decltype(labelled)::structure;
  const auto back = tl::unlabel<structure>(labelled.constants);
  static_assert(std::is_same_v<std::remove_const_t<decltype(back)>, std::remove_const_t<decltype(f)>>);
  BOOST_TEST(back(x = 1.5, y = 4.0) == 3.0);
}

BOOST_AUTO_TEST_CASE(comparisons_where_and_clamp_evaluate_at_compile_time) {
  static_assert((x < y)(x = 1.0, y = 2.0) == 1.0);
  static_assert((x > y)(x = 1.0, y = 2.0) == 0.0);
  static_assert((x <= 1.0)(x = 1.0) == 1.0);
  static_assert((x >= 2_c)(x = 1.0) == 0.0);
  static_assert(tl::not_equal(x, y)(x = 1.0, y = 2.0) == 1.0);
  static_assert(tl::where(x < y, x, y)(x = 3.0, y = 2.0) == 2.0);
  static_assert(tl::clamp(x, 0_c, 1_c)(x = 3.0) == 1.0);
  static_assert(tl::clamp(x, 0_c, 1_c)(x = -3.0) == 0.0);
  static_assert(tl::clamp(x, y, 1.5)(x = 0.5, y = 0.25) == 0.5);
  static_assert(tl::clamp(x, 2.0, 1.0)(x = 0.0) == 1.0);  // lo > hi: hi, as torch.clamp
  BOOST_TEST(std::isnan(tl::clamp(x, 0_c, 1_c)(x = std::nan(""))));
  BOOST_TEST(tl::where(x, 1_c, 2_c)(x = std::nan("")) == 1.0);  // NaN is not 0
  BOOST_TEST((x < y)(x = std::nan(""), y = 1.0) == 0.0);
}

BOOST_AUTO_TEST_CASE(nodes_of_symbols_stay_empty_at_any_operand_count) {
  static_assert(std::is_empty_v<decltype(tl::where(x < y, x, x))>);
  static_assert(std::is_empty_v<decltype(tl::clamp(x * y, x, x))>);
  BOOST_TEST(sizeof(tl::clamp(x, y, x)) == 1u);
  // Two run-time constants, stored once each (plus the one slot of padding
  // every node holding a constant has had: its tag base and the constant's
  // cannot share an address).
  BOOST_TEST(sizeof(tl::clamp(x, 0.0, 1.0)) == sizeof(x * 0.5) + sizeof(double));
}
