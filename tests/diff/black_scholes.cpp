// The Black-Scholes price of a European call written once, generically, and
// its greeks derived by tl::d and tl::grad, against the closed forms (written
// here with std::erfc and std::exp, independently of tapeless).
#define BOOST_TEST_MODULE diff_black_scholes
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <numbers>
#include <type_traits>

namespace tl = tapeless;
using namespace tl::literals;
namespace tt = boost::test_tools;

namespace {

constexpr auto S = tl::var<"S">;          // spot
constexpr auto K = tl::var<"K">;          // strike
constexpr auto r = tl::var<"r">;          // rate
constexpr auto sigma = tl::var<"sigma">;  // volatility
constexpr auto T = tl::var<"T">;          // time to expiry

// One definition for numbers and for symbols: tl::log, tl::sqrt, tl::exp and
// tl::normal_cdf of a double are doubles.
template <class Spot, class Strike, class Rate, class Vol, class Time>
constexpr auto call_price(Spot s, Strike k, Rate rate, Vol vol, Time t) {
  const auto d1 = (tl::log(s / k) + (rate + vol * vol / 2) * t) / (vol * tl::sqrt(t));
  const auto d2 = d1 - vol * tl::sqrt(t);
  return s * tl::normal_cdf(d1) - k * tl::exp(-rate * t) * tl::normal_cdf(d2);
}

struct market {
  double s, k, r, sigma, t;
};

// The closed forms.
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double normal_pdf(double x) { return std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi); }
double d1(const market& m) {
  return (std::log(m.s / m.k) + (m.r + m.sigma * m.sigma / 2) * m.t) / (m.sigma * std::sqrt(m.t));
}
double d2(const market& m) { return d1(m) - m.sigma * std::sqrt(m.t); }
double price(const market& m) {
  return m.s * normal_cdf(d1(m)) - m.k * std::exp(-m.r * m.t) * normal_cdf(d2(m));
}
double delta(const market& m) { return normal_cdf(d1(m)); }
double gamma(const market& m) { return normal_pdf(d1(m)) / (m.s * m.sigma * std::sqrt(m.t)); }
double vega(const market& m) { return m.s * normal_pdf(d1(m)) * std::sqrt(m.t); }
// d price / d (calendar time) = -d price / dT
double theta(const market& m) {
  return -m.s * normal_pdf(d1(m)) * m.sigma / (2 * std::sqrt(m.t)) -
         m.r * m.k * std::exp(-m.r * m.t) * normal_cdf(d2(m));
}
double rho(const market& m) { return m.k * m.t * std::exp(-m.r * m.t) * normal_cdf(d2(m)); }

constexpr market markets[] = {
    {100.0, 100.0, 0.05, 0.2, 1.0},   // at the money
    {120.0, 100.0, 0.01, 0.35, 0.25}, // in the money, short expiry
    {80.0, 100.0, 0.03, 0.15, 2.0},   // out of the money
    {50.0, 45.0, -0.005, 0.6, 0.1},   // negative rate, high volatility
};

constexpr auto price_expression = call_price(S, K, r, sigma, T);

}  // namespace

BOOST_AUTO_TEST_CASE(the_generic_price_is_a_number_on_numbers_and_an_expression_on_symbols) {
  for (const market& m : markets) {
    const double on_numbers = call_price(m.s, m.k, m.r, m.sigma, m.t);
    BOOST_TEST(on_numbers == price(m), tt::tolerance(1e-13));
    BOOST_TEST(price_expression(S = m.s, K = m.k, r = m.r, sigma = m.sigma, T = m.t) == price(m),
               tt::tolerance(1e-13));
  }
}

BOOST_AUTO_TEST_CASE(greeks_match_their_closed_forms) {
  constexpr auto delta_expression = tl::d(price_expression, S);
  constexpr auto gamma_expression = tl::d(delta_expression, S);
  constexpr auto vega_expression = tl::d(price_expression, sigma);
  constexpr auto theta_expression = -tl::d(price_expression, T);
  constexpr auto rho_expression = tl::d(price_expression, r);
  for (const market& m : markets) {
    const auto at = [&](const auto& e) { return e(S = m.s, K = m.k, r = m.r, sigma = m.sigma, T = m.t); };
    BOOST_TEST(at(delta_expression) == delta(m), tt::tolerance(1e-12));
    BOOST_TEST(at(gamma_expression) == gamma(m), tt::tolerance(1e-12));
    BOOST_TEST(at(vega_expression) == vega(m), tt::tolerance(1e-12));
    BOOST_TEST(at(theta_expression) == theta(m), tt::tolerance(1e-12));
    BOOST_TEST(at(rho_expression) == rho(m), tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(price_and_first_order_greeks_come_from_one_pass) {
  const auto greeks = tl::grad(price_expression, S, sigma, T, r);
  for (const market& m : markets) {
    const auto g = greeks(S = m.s, K = m.k, r = m.r, sigma = m.sigma, T = m.t);
    BOOST_TEST(g.value == price(m), tt::tolerance(1e-13));
    BOOST_TEST(g[S] == delta(m), tt::tolerance(1e-12));
    BOOST_TEST(g[sigma] == vega(m), tt::tolerance(1e-12));
    BOOST_TEST(-g[T] == theta(m), tt::tolerance(1e-12));
    BOOST_TEST(g[r] == rho(m), tt::tolerance(1e-12));
  }
}

BOOST_AUTO_TEST_CASE(functions_of_plain_numbers_return_the_standard_library_values) {
  BOOST_TEST(tl::sin(0.5) == std::sin(0.5));
  BOOST_TEST(tl::erf(1) == std::erf(1.0));  // an integer computes in double
  BOOST_TEST(tl::erfc(0.25f) == std::erfc(0.25f));
  BOOST_TEST(tl::normal_cdf(0.0) == 0.5);
  BOOST_TEST(tl::atan2(1.0, -1.0) == std::atan2(1.0, -1.0));
  BOOST_TEST(tl::hypot(3, 4) == 5.0);
  BOOST_TEST(tl::cbrt(-8.0) == -2.0);
  BOOST_TEST(tl::log1p(1e-10) == std::log1p(1e-10));
  BOOST_TEST(tl::expm1(1e-10) == std::expm1(1e-10));
  BOOST_TEST(tl::asinh(2.0) == std::asinh(2.0));
  static_assert(std::is_same_v<decltype(tl::sigmoid(1)), double>);
  BOOST_TEST(tl::pi() == std::numbers::pi);
  BOOST_TEST(tl::sqrt2() == std::numbers::sqrt2);
  BOOST_TEST(tl::to_string(tl::d(tl::erf(S), S)) == "(2/sqrt(pi))*exp(-S^2)");
}
