#define BOOST_TEST_MODULE simd_map
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/exp.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/map.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

using namespace simd_test;
namespace simd = tapeless::simd;
namespace tt = boost::test_tools;

namespace {
// Lengths around the batch size (tails of every length, an empty array) and
// offsets that leave the pointers unaligned.
template <class T, class Arch>
std::vector<std::size_t> lengths() {
  const std::size_t w = simd::lanes<T, Arch>;
  return {0, 1, w - 1, w, w + 1, 2 * w - 1, 3 * w + 2, 4 * w, 4 * w + 3, 1000, 1001};
}
constexpr std::size_t offsets[] = {0, 1, 3};
}  // namespace

BOOST_AUTO_TEST_CASE(fused_loop_visits_every_index_once_whole_batches_first_then_the_scalar_tail) {
  for (std::size_t n : {0, 1, 7, 8, 9, 31, 32, 33, 70}) {
    std::vector<int> seen(n, 0);
    std::size_t body_elements = 0, tail_elements = 0, last_tail = 0;
    bool slots_in_range = true;
    tapeless::simd::fused_loop<8, 4>(n, [&](std::size_t i, auto width, auto slot) {
      constexpr std::size_t w = decltype(width)::value;
      for (std::size_t l = 0; l < w; ++l) ++seen[i + l];
      slots_in_range = slots_in_range && decltype(slot)::value < 4;
      if constexpr (w == 8) {
        body_elements += 8;
      } else {
        tail_elements += 1;
        last_tail = i;
      }
    });
    BOOST_TEST((std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; })), "n=" << n);
    BOOST_TEST(body_elements == n / 8 * 8);
    BOOST_TEST(tail_elements == n % 8);
    if (n % 8) BOOST_TEST(last_tail == n - 1);
    BOOST_TEST(slots_in_range);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(map_applies_the_function_to_every_element_with_tails_and_unaligned_pointers, Arch,
                              archs) {
  for (std::size_t n : lengths<float, Arch>())
    for (std::size_t off : offsets) {
      const auto x = random_vector<float>(n + off, 20), y = random_vector<float>(n + off, 21);
      std::vector<float> z(n + off + 1, -7.f);
      simd::map<Arch>(n, [](auto a, auto b) { return a * b + 1.f; }, simd::in(x.data() + off, y.data() + off),
                      simd::out(z.data() + off));
      for (std::size_t i = 0; i < n; ++i)
        BOOST_TEST(z[off + i] == x[off + i] * y[off + i] + 1.f, "n=" << n << " offset=" << off << " i=" << i << tt::tolerance(1e-6f));
      // Nothing written outside [off, off + n).
      for (std::size_t i = 0; i < off; ++i) BOOST_TEST(z[i] == -7.f);
      BOOST_TEST(z[off + n] == -7.f);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(map_writes_several_outputs_in_one_pass, Arch, archs) {
  // tanh and its derivative 1 - tanh^2, as a fused forward/backward would.
  for (std::size_t n : lengths<float, Arch>()) {
    const auto x = random_vector<float>(n, 22);
    std::vector<float> t(n), dt(n);
    simd::map<Arch>(
        n,
        [](auto v) {
          const auto h = xsimd::tanh(v);
          return std::tuple{h, 1.f - h * h};
        },
        simd::in(x.data()), simd::out(t.data(), dt.data()));
    for (std::size_t i = 0; i < n; ++i) {
      BOOST_TEST(t[i] == std::tanh(x[i]), tt::tolerance(1e-5f));
      BOOST_TEST(dt[i] == 1.f - std::tanh(x[i]) * std::tanh(x[i]), tt::tolerance(1e-5f));
    }
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(map_works_in_place_and_on_three_inputs, Arch, archs) {
  const std::size_t n = 77;
  const auto a = random_vector<double>(n, 23), b = random_vector<double>(n, 24);
  auto c = random_vector<double>(n, 25);
  const auto c0 = c;
  simd::map<Arch>(n, [](auto x, auto y, auto z) { return xsimd::fma(x, y, z); }, simd::in(a.data(), b.data(), c.data()),
                  simd::out(c.data()));
  for (std::size_t i = 0; i < n; ++i) BOOST_TEST(c[i] == std::fma(a[i], b[i], c0[i]), tt::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(map_broadcasts_a_constant_result_to_every_lane, Arch, archs) {
  const std::size_t n = 37;
  const auto x = random_vector<float>(n, 26);
  std::vector<float> y(n, 1.f);
  simd::map<Arch>(n, [](auto) { return 0.5f; }, simd::in(x.data()), simd::out(y.data()));
  for (float v : y) BOOST_TEST(v == 0.5f);
}

namespace {
// simd::exp of x in every lane of a batch of T on Arch, lane by lane.
template <class T, class Arch>
std::vector<T> exp_lanes(T x) {
  using V = xsimd::batch<T, Arch>;
  std::vector<T> lanes(V::size);
  tapeless::simd::exp(V(x)).store_unaligned(lanes.data());
  return lanes;
}

template <class T, class Arch>
void check_exp_over_the_whole_line() {
  using V = xsimd::batch<T, Arch>;
  using bits = std::conditional_t<sizeof(T) == 8, std::uint64_t, std::uint32_t>;
  constexpr T inf = std::numeric_limits<T>::infinity();
  const T low = xsimd::constants::minlog<T>(), high = xsimd::constants::maxlog<T>();
  // In xsimd's range: the same bits as xsimd::exp.
  for (T x : {low, low / 2, T(-50), T(-1), T(-0.0), T(0), T(1e-8), T(1), T(50), high / 2, high}) {
    T expected[V::size];
    xsimd::exp(V(x)).store_unaligned(expected);
    for (T lane : exp_lanes<T, Arch>(x)) BOOST_TEST(std::bit_cast<bits>(lane) == std::bit_cast<bits>(expected[0]), x);
  }
  // Beyond it (a masked logit is -inf): xsimd's own 0 and inf, and NaN stays NaN.
  for (T x : {-inf, std::numeric_limits<T>::lowest(), low * 2})
    for (T lane : exp_lanes<T, Arch>(x)) BOOST_TEST(std::bit_cast<bits>(lane) == std::bit_cast<bits>(T(0)), x);
  for (T x : {inf, std::numeric_limits<T>::max(), high * 2})
    for (T lane : exp_lanes<T, Arch>(x)) BOOST_TEST(lane == inf, x);
  for (T lane : exp_lanes<T, Arch>(std::numeric_limits<T>::quiet_NaN())) BOOST_TEST(std::isnan(lane));
  BOOST_TEST(tapeless::simd::exp(T(1)) == std::exp(T(1)));  // a scalar: std::exp
}
}  // namespace

// Under UndefinedBehaviorSanitizer, xsimd::exp(-inf) of double batches on
// SSE2 converts -inf to an integer: simd::exp never does.
BOOST_AUTO_TEST_CASE_TEMPLATE(exp_is_defined_for_every_argument_and_unchanged_in_range, Arch, archs) {
  check_exp_over_the_whole_line<float, Arch>();
  check_exp_over_the_whole_line<double, Arch>();
}
