#define BOOST_TEST_MODULE simd_pool2d
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/pool2d.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace tl = tapeless;
namespace simd = tapeless::simd;
using simd_test::archs;

#include "../reference/pool2d.inc"

namespace {

using namespace pool2d_reference;

// Worst |got - expected| as a multiple of 1e-6 * (1 + the largest |expected|).
template <std::size_t Size>
double worst_error(const std::vector<float>& got, const std::array<float, Size>& expected) {
  BOOST_REQUIRE_EQUAL(got.size(), Size);
  double scale = 0, worst = 0;
  for (float e : expected) scale = std::fmax(scale, std::fabs(double(e)));
  for (std::size_t i = 0; i < Size; ++i) {
    const double error = std::fabs(double(got[i]) - double(expected[i]));
    worst = std::isnan(error) ? std::numeric_limits<double>::infinity() : std::fmax(worst, error);
  }
  return worst / (1e-6 * (1 + scale));
}

std::vector<float> poisoned(std::size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

template <class Case, class Arch>
void check_max_pool() {
  constexpr simd::pool2d_shape s = Case::shape;
  const std::string label = std::string(Case::name) + " on " + Arch::name();
  auto output = poisoned(s.output_size());
  std::vector<std::int32_t> indices(s.output_size(), -1);
  simd::max_pool2d<s, Arch>(Case::input.data(), output.data(), indices.data());
  BOOST_TEST(worst_error(output, Case::output) < 1, "forward " << label);
  BOOST_TEST(std::equal(indices.begin(), indices.end(), Case::indices.begin()), "indices " << label);
  auto input_gradient = poisoned(s.input_size());
  simd::max_pool2d_backward<s, Arch>(Case::output_gradient.data(), indices.data(), input_gradient.data());
  BOOST_TEST(worst_error(input_gradient, Case::input_gradient) < 1, "backward " << label);
}

template <class Case, class Arch>
void check_avg_pool() {
  constexpr simd::pool2d_shape s = Case::shape;
  const std::string label = std::string(Case::name) + " on " + Arch::name();
  auto output = poisoned(s.output_size());
  simd::avg_pool2d<s, Arch>(Case::input.data(), output.data());
  BOOST_TEST(worst_error(output, Case::output) < 1, "forward " << label);
  auto input_gradient = poisoned(s.input_size());
  simd::avg_pool2d_backward<s, Arch>(Case::output_gradient.data(), input_gradient.data());
  BOOST_TEST(worst_error(input_gradient, Case::input_gradient) < 1, "backward " << label);
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(max_pool2d_values_indices_and_gradient_match_pytorch, Arch, archs) {
  check_max_pool<max_3_stride2_pad1, Arch>();
  check_max_pool<max_2, Arch>();
  check_max_pool<max_3_stride1_ties, Arch>();
  check_max_pool<max_2_wide, Arch>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(avg_pool2d_and_its_gradient_match_pytorch_counting_the_padding, Arch, archs) {
  check_avg_pool<avg_3_stride2_pad1, Arch>();
  check_avg_pool<avg_2, Arch>();
  check_avg_pool<avg_2_wide, Arch>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(global_avg_pool2d_and_its_gradient_match_pytorch, Arch, archs) {
  using c = global_avg;
  auto output = poisoned(c::batch * c::channels);
  simd::global_avg_pool2d<c::batch, c::channels, c::height, c::width, Arch>(c::input.data(), output.data());
  BOOST_TEST(worst_error(output, c::output) < 1);
  auto input_gradient = poisoned(c::input.size());
  simd::global_avg_pool2d_backward<c::batch, c::channels, c::height, c::width, Arch>(c::output_gradient.data(),
                                                                                     input_gradient.data());
  BOOST_TEST(worst_error(input_gradient, c::input_gradient) < 1);
}

// As torch's CPU kernel: a NaN in a window is its maximum (the last NaN's
// index). Forty columns: twenty outputs, a batch and more of the vector path.
BOOST_AUTO_TEST_CASE_TEMPLATE(max_pool2d_propagates_nan_and_points_at_it, Arch, archs) {
  constexpr simd::pool2d_shape s{.height = 2, .width = 40, .kernel = 2};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x(80);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i % 7);  // window j's maximum: known below
  x[3] = nan;           // window 1, row 0
  x[40 + 10] = nan;     // window 5, row 1 ...
  x[40 + 11] = nan;     // ... twice: the last one counts
  std::vector<float> y(20);
  std::vector<std::int32_t> at(20);
  simd::max_pool2d<s, Arch>(x.data(), y.data(), at.data());
  for (std::size_t j = 0; j < 20; ++j) {
    if (j == 1) {
      BOOST_TEST((std::isnan(y[j]) && at[j] == 3));
    } else if (j == 5) {
      BOOST_TEST((std::isnan(y[j]) && at[j] == 51));
    } else {
      std::size_t best = 2 * j;
      for (std::size_t i : {2 * j, 2 * j + 1, 40 + 2 * j, 41 + 2 * j})
        if (x[i] > x[best]) best = i;
      BOOST_TEST(y[j] == x[best], "window " << j);
      BOOST_TEST(at[j] == std::int32_t(best), "window " << j);
    }
  }
}

// Brute force over every window (torch's rule: the first maximum in
// row-major window order, or the last NaN) against the kernel, on shapes whose
// planes take the vector rows (several planes: the last rows read into the
// next plane), the scalar rows (the end of the input) and rows narrower than
// a batch; small integers make ties, and NaN lands in some windows.
template <simd::pool2d_shape S, class Arch>
void check_max_pool_against_brute_force() {
  std::vector<float> x(S.input_size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 5);
  for (std::size_t i = 3; i < x.size(); i += 37) x[i] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> y(S.output_size());
  std::vector<std::int32_t> at(S.output_size(), -1);
  simd::max_pool2d<S, Arch>(x.data(), y.data(), at.data());
  const std::size_t OH = S.out_height(), OW = S.out_width();
  for (std::size_t plane = 0; plane < S.planes(); ++plane)
    for (std::size_t oh = 0; oh < OH; ++oh)
      for (std::size_t ow = 0; ow < OW; ++ow) {
        const float* p = x.data() + plane * S.height * S.width;
        std::size_t best = oh * S.step() * S.width + ow * S.step();
        for (std::size_t kh = 0; kh < S.kernel; ++kh)
          for (std::size_t kw = 0; kw < S.kernel; ++kw) {
            const std::size_t i = (oh * S.step() + kh) * S.width + ow * S.step() + kw;
            if (std::isnan(p[i]) || (!std::isnan(p[best]) && p[i] > p[best])) best = i;
          }
        const std::size_t out = (plane * OH + oh) * OW + ow;
        const bool same = std::isnan(p[best]) ? std::isnan(y[out]) : y[out] == p[best];
        BOOST_TEST((same && at[out] == std::int32_t(best)),
                   "plane " << plane << " output " << oh << "," << ow << " on " << Arch::name());
      }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(max_pool2d_matches_brute_force_across_planes_rows_and_strides, Arch, archs) {
  check_max_pool_against_brute_force<simd::pool2d_shape{.batch = 2, .channels = 3, .height = 6, .width = 40, .kernel = 2},
                                     Arch>();
  check_max_pool_against_brute_force<simd::pool2d_shape{.batch = 3, .channels = 2, .height = 7, .width = 9, .kernel = 3,
                                                        .stride = 1},
                                     Arch>();
  check_max_pool_against_brute_force<simd::pool2d_shape{.batch = 5, .channels = 1, .height = 3, .width = 3, .kernel = 2,
                                                        .stride = 1},
                                     Arch>();
  check_max_pool_against_brute_force<simd::pool2d_shape{.batch = 4, .channels = 3, .height = 14, .width = 14,
                                                        .kernel = 3, .stride = 2},
                                     Arch>();
}
