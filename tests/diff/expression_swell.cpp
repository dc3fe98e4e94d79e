#define BOOST_TEST_MODULE diff_expression_swell
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

namespace {

constexpr auto x = tl::var<"x">;

// The logistic map y <- r*y*(1 - y) applied Depth times: every level uses the
// previous one twice, so written out as a tree the expression has 2^Depth
// leaves. Only sharing keeps its derivative small.
template <int Depth, class Y>
constexpr auto logistic(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return logistic<Depth - 1>(tl::c<37, 10> * y * (1_c - y));
}

// A deep composition of functions, each level using the previous one twice.
template <int Depth, class Y>
constexpr auto nested(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return nested<Depth - 1>(tl::sin(y) * tl::cos(y) + y);
}

// A deep composition: f(x) = sin(sin(...sin(x))).
template <int Depth, class Y>
constexpr auto composed(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return composed<Depth - 1>(tl::sin(y));
}

void composed_reference(int depth, double y0, double& value, double& derivative) {
  value = y0;
  derivative = 1;
  for (int i = 0; i < depth; ++i) {
    derivative *= std::cos(value);
    value = std::sin(value);
  }
}

template <class E>
constexpr std::size_t distinct_nodes(const E& e) {
  return tl::detail::topological_order<typename decltype(tl::label(e))::structure>::size;
}

// The same map and its derivative by the chain rule, as a plain loop.
void logistic_reference(int depth, double y0, double& value, double& derivative) {
  value = y0;
  derivative = 1;
  for (int i = 0; i < depth; ++i) {
    derivative = 3.7 * (1 - 2 * value) * derivative;
    value = 3.7 * value * (1 - value);
  }
}

}  // namespace

// Depths: compile time grows about linearly with them (bench/results/compile_time.md).
constexpr int composition_depth = 128;
constexpr int logistic_depth = 16;
constexpr int nested_depth = 10;

BOOST_AUTO_TEST_CASE(derivative_of_a_128_deep_composition_stays_linear_in_size) {
  constexpr auto f = composed<composition_depth>(x);
  constexpr auto df = tl::d(f, x);
  const std::size_t forward = distinct_nodes(f), backward = distinct_nodes(df);
  BOOST_TEST_MESSAGE("composition, depth " << composition_depth << ": " << forward
                                           << " distinct nodes, derivative " << backward);
  BOOST_TEST(forward == composition_depth + 1);
  BOOST_TEST(backward <= 4 * composition_depth);
}

BOOST_AUTO_TEST_CASE(derivative_of_a_128_deep_composition_is_the_chain_rule) {
  constexpr auto df = tl::d(composed<composition_depth>(x), x);
  for (const double y0 : {-0.4, 0.1, 0.9}) {
    double value = 0, derivative = 0;
    composed_reference(composition_depth, y0, value, derivative);
    BOOST_TEST(df(x = y0) == derivative, boost::test_tools::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(derivative_of_a_shared_logistic_map_stays_linear_in_size) {
  // Each level uses the previous one twice: written out as a tree, depth 16
  // has 2^16 leaves; the graph and its derivative stay linear.
  constexpr auto f = logistic<logistic_depth>(x);
  constexpr auto df = tl::d(f, x);
  BOOST_TEST(tl::detail::tree_size<std::remove_const_t<decltype(f)>> > 65536);
  BOOST_TEST(distinct_nodes(f) <= 5 * logistic_depth + 3);
  BOOST_TEST(distinct_nodes(df) <= 12 * logistic_depth);
}

BOOST_AUTO_TEST_CASE(derivative_of_a_shared_logistic_map_is_the_chain_rule) {
  constexpr auto f = logistic<logistic_depth>(x);
  constexpr auto df = tl::d(f, x);
  for (const double y0 : {0.1, 0.3, 0.77}) {
    double value = 0, derivative = 0;
    logistic_reference(logistic_depth, y0, value, derivative);
    BOOST_TEST(f(x = y0) == value, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(df(x = y0) == derivative, boost::test_tools::tolerance(1e-9));
  }
}

BOOST_AUTO_TEST_CASE(second_derivative_of_a_deep_composition_stays_linear_in_size) {
  constexpr auto f = nested<nested_depth>(x);
  constexpr auto d2f = tl::d(tl::d(f, x), x);
  BOOST_TEST_MESSAGE("nested, depth " << nested_depth << ": " << distinct_nodes(f)
                                      << " distinct nodes, second derivative " << distinct_nodes(d2f));
  BOOST_TEST(distinct_nodes(f) <= 4 * nested_depth + 1);
  BOOST_TEST(distinct_nodes(d2f) <= 40 * nested_depth);
  const auto check = tl::check_gradient(tl::d(f, x), tl::with_respect_to(x), x = 0.3);
  BOOST_TEST(check.max_rel_error < 1e-6);
}

// The same logistic map written with a plain number (3.7, not 37/10): every
// level's run-time constant is its own slot, but a derivative keeps those
// slots, so differentiating it again shares what the first derivative shared.
template <int Depth, class Y>
auto logistic_plain(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return logistic_plain<Depth - 1>(3.7 * y * (1_c - y));
}

BOOST_AUTO_TEST_CASE(plain_numbers_cost_what_exact_constants_cost_at_the_second_order) {
  constexpr int depth = 4;
  const auto plain = tl::d(tl::d(logistic_plain<depth>(x), x), x);
  constexpr auto exact = tl::d(tl::d(logistic<depth>(x), x), x);
  BOOST_TEST_MESSAGE("logistic map, depth " << depth << ": second derivative with plain numbers "
                                            << distinct_nodes(plain) << " distinct nodes, with exact "
                                            << distinct_nodes(exact));
  // Linear as with exact constants, with more nodes: each level's number is a
  // slot of its own (each use of a level holds its own copy), and no fold
  // applies to it (3.7 * 2 stays a product).
  BOOST_TEST(distinct_nodes(plain) <= 4 * distinct_nodes(exact));
  BOOST_TEST(plain(x = 0.3) == exact(x = 0.3), tt::tolerance(1e-12));
  const auto f = tl::sigmoid(tl::exp(0.3 * (x / (2.0 + tl::square(x)))));
  constexpr auto g = tl::sigmoid(tl::exp(0.3_c * (x / (2_c + tl::square(x)))));
  const auto f2 = tl::d(tl::d(f, x), x);
  constexpr auto g2 = tl::d(tl::d(g, x), x);
  BOOST_TEST(distinct_nodes(f2) <= distinct_nodes(g2) + 4);
  BOOST_TEST(f2(x = 0.7) == g2(x = 0.7), tt::tolerance(1e-12));
}
