#define BOOST_TEST_MODULE diff_share_numbers
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "../reference/share_numbers.inc"

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

// clang workaround: clang 14 takes no template argument of a class holding a
// double (implemented in clang 18), which tl::share_numbers<f>() needs; the
// form by position is tested everywhere.
#if defined(__cpp_nontype_template_args) && __cpp_nontype_template_args >= 201911L
#define TEST_SHARING_BY_VALUE 1
#else
#define TEST_SHARING_BY_VALUE 0
#endif

namespace {

constexpr auto x = tl::var<"x">;

// A subexpression reused twice per level, its numbers plain (Exact false) or
// exact: written as a tree, level k is copied 2^(depth - k) times.
template <int Depth, bool Exact, class Y>
constexpr auto quotients(Y y) {
  if constexpr (Depth == 0)
    return y;
  else if constexpr (Exact)
    return quotients<Depth - 1, Exact>(tl::pow(1.5_c + tl::square(y), 0.75_c) /
                                       (2_c + tl::log(1_c + tl::square(y))));
  else
    return quotients<Depth - 1, Exact>(tl::pow(1.5 + tl::square(y), 0.75) /
                                       (2.0 + tl::log(1.0 + tl::square(y))));
}

template <int Depth, bool Exact, class Y>
constexpr auto logistic(Y y) {
  if constexpr (Depth == 0)
    return y;
  else if constexpr (Exact)
    return logistic<Depth - 1, Exact>(tl::c<37, 10> * y * (1_c - y));
  else
    return logistic<Depth - 1, Exact>(3.7 * y * (1_c - y));
}

template <class E>
constexpr std::size_t distinct_nodes(const E& e) {
  return tl::detail::topological_order<typename decltype(tl::label(e))::structure>::size;
}

}  // namespace

constexpr auto quotients_plain = quotients<4, false>(x);
constexpr auto logistic_plain = logistic<6, false>(x);

#if TEST_SHARING_BY_VALUE
BOOST_AUTO_TEST_CASE(a_reused_subexpression_with_plain_numbers_has_the_graph_of_exact_constants) {
  // Without sharing, the plain numbers of the 15 copies make 166 distinct
  // nodes where 26 were written (the guard of tl::d refuses that graph).
  const auto shared = tl::share_numbers<quotients_plain>();
  const auto exact = quotients<4, true>(x);
  BOOST_TEST_MESSAGE("nested quotients: " << distinct_nodes(quotients_plain) << " distinct nodes with plain "
                     "numbers, " << distinct_nodes(shared) << " shared by value, " << distinct_nodes(exact)
                     << " with exact constants");
  BOOST_TEST(distinct_nodes(quotients_plain) > 3 * distinct_nodes(shared));
  // Each level keeps its four numbers as slots of its own (exact constants
  // are one type wherever they recur): a few more nodes, never a multiple.
  BOOST_TEST(distinct_nodes(shared) <= distinct_nodes(exact) + 16);
  const auto d2_shared = tl::d(tl::d(shared, x), x);
  const auto d2_exact = tl::d(tl::d(exact, x), x);
  BOOST_TEST(distinct_nodes(d2_shared) <= 2 * distinct_nodes(d2_exact));
}

BOOST_AUTO_TEST_CASE(nested_quotients_shared_by_value_agree_with_sympy_to_the_second_derivative) {
  const auto f = tl::share_numbers<quotients_plain>();
  const auto df = tl::d(f, x);
  const auto d2f = tl::d(df, x);
  for (const auto& row : nested_quotients_depth_4) {
    BOOST_TEST(f(x = row[0]) == row[1], tt::tolerance(1e-9));
    BOOST_TEST(df(x = row[0]) == row[2], tt::tolerance(1e-9));
    BOOST_TEST(d2f(x = row[0]) == row[3], tt::tolerance(1e-9));
  }
}

#endif

BOOST_AUTO_TEST_CASE(a_logistic_map_six_deep_shared_agrees_with_sympy_to_the_third_derivative) {
  // 63 copies of the number 3.7 as written: the guard of tl::d refuses the
  // plain form. Shared by value (known while compiling) and by position
  // (numbers known only at run time, checked equal), it is one graph.
  const auto by_position = tl::share_numbers(logistic_plain);
  const auto d3_exact = tl::d(tl::d(tl::d(logistic<6, true>(x), x), x), x);
  const auto d2_position = tl::d(tl::d(by_position, x), x);
  const auto d3_position = tl::d(d2_position, x);
  BOOST_TEST(distinct_nodes(d3_position) <= distinct_nodes(d3_exact) + 16);
  for (const auto& row : logistic_map_depth_6) {
    BOOST_TEST(by_position(x = row[0]) == row[1], tt::tolerance(1e-9));
    BOOST_TEST(tl::d(by_position, x)(x = row[0]) == row[2], tt::tolerance(1e-9));
    BOOST_TEST(d2_position(x = row[0]) == row[3], tt::tolerance(1e-9));
    BOOST_TEST(d3_position(x = row[0]) == row[4], tt::tolerance(1e-9));
  }
#if TEST_SHARING_BY_VALUE
  const auto by_value = tl::share_numbers<logistic_plain>();
  const auto d3_value = tl::d(tl::d(tl::d(by_value, x), x), x);
  BOOST_TEST(distinct_nodes(d3_value) <= distinct_nodes(d3_exact) + 16);
  for (const auto& row : logistic_map_depth_6) BOOST_TEST(d3_value(x = row[0]) == row[4], tt::tolerance(1e-9));
#endif
}

BOOST_AUTO_TEST_CASE(numbers_that_differ_under_one_type_need_the_form_by_value) {
  // 1.5 + y^2 and 1.0 + y^2 have one type: by position they would share a
  // slot, so the run-time form refuses; by value they stay apart.
  BOOST_CHECK_THROW(tl::share_numbers(quotients_plain), std::invalid_argument);
#if TEST_SHARING_BY_VALUE
  constexpr auto sum = 0.5 * x + 0.7 * x;
  const auto by_value = tl::share_numbers<sum>();
  BOOST_TEST(tl::d(by_value, x)(x = 2.0) == 1.2, tt::tolerance(1e-15));
  BOOST_TEST(by_value(x = 2.0) == 2.4, tt::tolerance(1e-15));
#endif
}

BOOST_AUTO_TEST_CASE(copies_holding_different_numbers_are_refused_not_merged) {
  // One type, two values: sharing them would give 1.0 * x, not 1.2 * x.
  const auto f = 0.5 * x + 0.7 * x;
  BOOST_CHECK_THROW(tl::share_numbers(f), std::invalid_argument);
  try {
    (void)tl::share_numbers(f);
  } catch (const std::invalid_argument& e) {
    BOOST_TEST(std::string(e.what()).find("tl::share_numbers") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("exact constants") != std::string::npos);
  }
  // Differentiated as it is, each number keeps its own slot.
  BOOST_TEST(tl::d(f, x)(x = 2.0) == 1.2, tt::tolerance(1e-15));
}

constexpr auto without_numbers = tl::sin(x) * 0.5_c;

BOOST_AUTO_TEST_CASE(an_expression_without_plain_numbers_comes_back_as_it_is) {
  BOOST_TEST((std::is_same_v<decltype(tl::share_numbers(without_numbers)), std::remove_const_t<decltype(without_numbers)>>));
#if TEST_SHARING_BY_VALUE
  BOOST_TEST((std::is_same_v<decltype(tl::share_numbers<without_numbers>()),
                             std::remove_const_t<decltype(without_numbers)>>));
#endif
}

BOOST_AUTO_TEST_CASE(distinct_numbers_at_distinct_places_keep_their_values) {
  // Different types at every place: nothing is merged, every value is kept.
  const auto f = tl::share_numbers(0.5 * tl::sin(x) + tl::exp(0.25 * x) / (3.0 + x));
  for (const double v : {-0.4, 0.9}) {
    const double expected = 0.5 * std::sin(v) + std::exp(0.25 * v) / (3.0 + v);
    BOOST_TEST(f(x = v) == expected, tt::tolerance(1e-15));
  }
}

BOOST_AUTO_TEST_CASE(a_derivative_reused_twice_is_shared_with_its_numbers) {
  // A derivative keeps its numbers in a table; reusing it copies the table,
  // and labelling gives each copy slots of its own. Shared, one block serves.
  const auto df = tl::d(tl::pow(1.5 + tl::square(x), 0.75), x);
  const auto g = df * tl::sin(df);
  const auto shared = tl::share_numbers(g);
  BOOST_TEST(distinct_nodes(shared) < distinct_nodes(g));
  for (const double v : {0.2, -1.3}) {
    const double d = 0.75 * std::pow(1.5 + v * v, -0.25) * 2 * v;
    BOOST_TEST(shared(x = v) == d * std::sin(d), tt::tolerance(1e-12));
    BOOST_TEST(tl::d(shared, x)(x = v) == tl::d(g, x)(x = v), tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(sharing_in_a_constant_expression_costs_nothing_at_run_time) {
  // All numbers gathered while compiling: a mismatch here would not compile.
  constexpr auto f = tl::share_numbers(logistic<3, false>(x));
  constexpr double value = f(x = 0.5);
  double y = 0.5;
  for (int i = 0; i < 3; ++i) y = 3.7 * y * (1 - y);
  BOOST_TEST(value == y, tt::tolerance(1e-15));
}
