#define BOOST_TEST_MODULE simd_sum
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/sum.hpp>

#include <cmath>
#include <vector>

using namespace simd_test;
namespace simd = tapeless::simd;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE_TEMPLATE(sum_adds_every_element_with_tails_and_unaligned_pointers, Arch, archs) {
  const std::size_t w = simd::lanes<float, Arch>;
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, w - 1, w, w + 1, 4 * w - 1, 4 * w, 4 * w + 1, 8 * w + 5,
                        std::size_t{1000}, std::size_t{1001}})
    for (std::size_t off : {0, 1, 3}) {
      const auto x = random_vector<float>(n + off, 30);
      double exact = 0, magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) exact += x[off + i], magnitude += std::fabs(x[off + i]);
      const float s = simd::sum<Arch>(n, x.data() + off);
      BOOST_TEST(std::fabs(s - exact) <= 4 * 1.2e-7 * magnitude * std::log2(n + 2.0) + 1e-30,
                 "n=" << n << " offset=" << off << ": " << s << " vs " << exact);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(sum_of_exactly_representable_values_is_exact, Arch, archs) {
  std::vector<float> x(1003);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 17);
  double exact = 0;
  for (float v : x) exact += v;
  BOOST_TEST(simd::sum<Arch>(x.size(), x.data()) == float(exact));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(sum_fuses_a_function_of_several_inputs, Arch, archs) {
  // A dot product and a squared distance, one pass each.
  for (std::size_t n : {std::size_t{5}, std::size_t{64}, std::size_t{333}}) {
    const auto x = random_vector<double>(n, 31), y = random_vector<double>(n, 32);
    double dot = 0, dist = 0;
    for (std::size_t i = 0; i < n; ++i) dot += x[i] * y[i], dist += (x[i] - y[i]) * (x[i] - y[i]);
    BOOST_TEST(simd::sum<Arch>(n, [](auto a, auto b) { return a * b; }, simd::in(x.data(), y.data())) == dot,
               tt::tolerance(1e-12));
    BOOST_TEST(simd::sum<Arch>(
                   n, [](auto a, auto b) { return (a - b) * (a - b); }, simd::in(x.data(), y.data())) == dist,
               tt::tolerance(1e-12));
  }
}
