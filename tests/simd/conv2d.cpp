#define BOOST_TEST_MODULE simd_conv2d
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/conv2d.hpp>

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
using simd::conv2d_algorithm;
using simd_test::archs;

#include "../reference/conv2d.inc"

namespace {

using namespace conv2d_reference;
using conv_cases = std::tuple<conv_3x3_pad1, conv_stride2_pad1, conv_dilation2, conv_groups2, conv_depthwise_stride2,
                              conv_kernel_2x4, conv_wide_rows, conv_depthwise_wide, conv_deep_8x8,
                              conv_1x1_stride2, conv_groups3_dilation2_stride2, conv_first_layer,
                              conv_first_layer_groups2, conv_depthwise_14x14, conv_depthwise_odd_7x13,
                              conv_depthwise_5x3_dilation2, conv_depthwise_pad0_narrow, conv_depthwise_7x7_wide,
                              conv_depthwise_stride2_odd, conv_depthwise_9_wide>;
// The cases the depthwise row kernels take (one channel per group, stride 1).
using depthwise_rows_cases = std::tuple<conv_depthwise_wide, conv_depthwise_14x14, conv_depthwise_odd_7x13,
                                        conv_depthwise_5x3_dilation2, conv_depthwise_pad0_narrow,
                                        conv_depthwise_7x7_wide, conv_depthwise_9_wide>;

// Worst |got - expected|, as a multiple of 1e-5 * (1 + the largest |expected|):
// float rounding of these sums stays well below 1, a wrong element is about
// 1e5 times larger.
template <std::size_t Size>
double worst_error(const std::vector<float>& got, const std::array<float, Size>& expected) {
  BOOST_REQUIRE_EQUAL(got.size(), Size);
  double scale = 0, worst = 0;
  for (float e : expected) scale = std::fmax(scale, std::fabs(double(e)));
  for (std::size_t i = 0; i < Size; ++i) {
    const double error = std::fabs(double(got[i]) - double(expected[i]));
    worst = std::isnan(error) ? std::numeric_limits<double>::infinity() : std::fmax(worst, error);
  }
  return worst / (1e-5 * (1 + scale));
}

// Outputs start as NaN: an element a kernel forgets to write shows.
std::vector<float> poisoned(std::size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

template <class Case, class Arch, conv2d_algorithm Algorithm>
void check_against_pytorch() {
  constexpr simd::conv2d_shape s = Case::shape;
  using plan = simd::conv2d_plan<s, float, Arch, Algorithm>;
  // Appended in place: g++ 12 at -O1 takes a chain of + on temporaries for a
  // write out of bounds (-Warray-bounds, a false positive of its std::string).
  std::string label(Case::name);
  label.append(" on ").append(Arch::name());
  label.append(plan::im2col ? " (im2col + GEMM)" : plan::depthwise_rows ? " (depthwise rows)" : " (direct)");
  std::vector<float> scratch(simd::conv2d_scratch_bytes<s, float, Arch, Algorithm>() / sizeof(float) + 1);

  auto output = poisoned(s.output_size());
  simd::conv2d<s, Arch, Algorithm>(Case::input.data(), Case::weight.data(), output.data(), scratch.data());
  BOOST_TEST(worst_error(output, Case::output) < 1, "forward " << label);

  auto fused = poisoned(s.output_size());
  simd::conv2d<s, Arch, Algorithm>(Case::input.data(), Case::weight.data(), fused.data(), scratch.data(),
                                   [&](auto v, auto at) {
                                     using V = decltype(v);
                                     return xsimd::max(v + V(Case::bias[at.row % s.out_channels]), V(0));
                                   });
  BOOST_TEST(worst_error(fused, Case::output_bias_relu) < 1, "forward, bias + relu epilogue " << label);

  auto input_gradient = poisoned(s.input_size());
  simd::conv2d_input_gradient<s, Arch, Algorithm>(Case::output_gradient.data(), Case::weight.data(),
                                                  input_gradient.data(), scratch.data());
  BOOST_TEST(worst_error(input_gradient, Case::input_gradient) < 1, "input gradient " << label);

  auto weight_gradient = poisoned(s.weight_size());
  simd::conv2d_weight_gradient<s, Arch, Algorithm>(Case::input.data(), Case::output_gradient.data(),
                                                   weight_gradient.data(), scratch.data());
  BOOST_TEST(worst_error(weight_gradient, Case::weight_gradient) < 1, "weight gradient " << label);

  auto bias_gradient = poisoned(s.out_channels);
  simd::conv2d_bias_gradient<s, Arch>(Case::output_gradient.data(), bias_gradient.data());
  BOOST_TEST(worst_error(bias_gradient, Case::bias_gradient) < 1, "bias gradient " << label);
}

template <class Arch, conv2d_algorithm Algorithm, class Cases = conv_cases>
void check_all_cases() {
  [&]<class... Case>(std::tuple<Case...>*) {
    (check_against_pytorch<Case, Arch, Algorithm>(), ...);
  }(static_cast<Cases*>(nullptr));
}

}  // namespace

// Every case both ways, whatever the plan would choose: the two kernels must agree with torch everywhere.
BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_and_its_gradients_match_pytorch_with_im2col_and_gemm, Arch, archs) {
  check_all_cases<Arch, conv2d_algorithm::im2col_gemm>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(conv2d_and_its_gradients_match_pytorch_with_direct_loops, Arch, archs) {
  check_all_cases<Arch, conv2d_algorithm::direct>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(depthwise_convolutions_and_their_gradients_match_pytorch_with_the_row_kernels, Arch,
                              archs) {
  check_all_cases<Arch, conv2d_algorithm::depthwise_rows, depthwise_rows_cases>();
}

// Run inside a larger buffer, the row kernels write nothing outside their
// result, whatever the row width (their whole-register stores stop at its end).
BOOST_AUTO_TEST_CASE_TEMPLATE(the_depthwise_row_kernels_write_only_their_result, Arch, archs) {
  using Case = conv_depthwise_odd_7x13;
  constexpr simd::conv2d_shape s = Case::shape;
  constexpr std::size_t guard = 64;
  constexpr auto rows = conv2d_algorithm::depthwise_rows;  // whatever the plan takes for Arch
  std::vector<float> scratch(simd::conv2d_scratch_bytes<s, float, Arch, rows>() / sizeof(float) + 1);
  auto check = [&](std::size_t size, auto&& run) {
    std::vector<float> buffer(size + 2 * guard, 7.f);
    run(buffer.data() + guard);
    bool untouched = true;
    for (std::size_t i = 0; i < guard; ++i) untouched = untouched && buffer[i] == 7.f && buffer[guard + size + i] == 7.f;
    return untouched;
  };
  BOOST_TEST(check(s.output_size(), [&](float* y) {
    simd::conv2d<s, Arch, rows>(Case::input.data(), Case::weight.data(), y, scratch.data());
  }));
  BOOST_TEST(check(s.input_size(), [&](float* dx) {
    simd::conv2d_input_gradient<s, Arch, rows>(Case::output_gradient.data(), Case::weight.data(), dx, scratch.data());
  }));
}

BOOST_AUTO_TEST_CASE(the_plan_takes_direct_loops_for_depthwise_and_gemm_for_many_output_channels) {
  using depthwise = simd::conv2d_plan<conv_depthwise_stride2::shape, float>;
  using depthwise_stride1 = simd::conv2d_plan<conv_depthwise_14x14::shape, float>;
  using depthwise_stride2 = simd::conv2d_plan<conv_depthwise_stride2_odd::shape, float>;
  using wide = simd::conv2d_plan<conv_wide_rows::shape, float>;
  BOOST_TEST((!depthwise::im2col && !depthwise::depthwise_rows));  // two output channels per group
  // The row kernels where their shifted copies stay in registers; with SSE2
  // (copies through memory) the direct loops, which ran 2.2-7.4x faster there.
  constexpr bool shifts_in_registers = xsimd::default_arch::version() >= xsimd::avx2::version();
  BOOST_TEST((!depthwise_stride1::im2col && depthwise_stride1::depthwise_rows == shifts_in_registers));
  using stride1_sse2 = simd::conv2d_plan<conv_depthwise_14x14::shape, float, xsimd::sse2>;
  BOOST_TEST((!stride1_sse2::im2col && !stride1_sse2::depthwise_rows));
#if XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
  using stride1_avx2 = simd::conv2d_plan<conv_depthwise_14x14::shape, float, xsimd::fma3<xsimd::avx2>>;
  BOOST_TEST((!stride1_avx2::im2col && stride1_avx2::depthwise_rows));
#endif
  BOOST_TEST((!depthwise_stride2::im2col && !depthwise_stride2::depthwise_rows));
  BOOST_TEST((wide::im2col && !wide::depthwise_rows));
}

// A second, independent check of the gradients: central differences of
// L = sum(conv(x, w) * g) in double precision, on a case with stride,
// padding, dilation and groups together.
BOOST_AUTO_TEST_CASE(conv2d_gradients_match_finite_differences) {
  constexpr simd::conv2d_shape s{.batch = 2, .in_channels = 4, .height = 7, .width = 6, .out_channels = 6,
                                 .kernel_height = 3, .kernel_width = 2, .stride = 2, .padding = 1,
                                 .dilation = 2, .groups = 2};
  auto x = simd_test::random_vector<double>(s.input_size(), 11);
  auto w = simd_test::random_vector<double>(s.weight_size(), 12);
  const auto g = simd_test::random_vector<double>(s.output_size(), 13);
  std::vector<double> scratch(simd::conv2d_scratch_bytes<s, double>() / sizeof(double) + 1), y(s.output_size());
  auto loss = [&] {
    simd::conv2d<s>(x.data(), w.data(), y.data(), scratch.data());
    double l = 0;
    for (std::size_t i = 0; i < y.size(); ++i) l += y[i] * g[i];
    return l;
  };
  std::vector<double> dx(s.input_size()), dw(s.weight_size());
  simd::conv2d_input_gradient<s>(g.data(), w.data(), dx.data(), scratch.data());
  simd::conv2d_weight_gradient<s>(x.data(), g.data(), dw.data(), scratch.data());

  const double h = 1e-5;
  auto central_difference = [&](double& v) {
    const double saved = v;
    v = saved + h;
    const double up = loss();
    v = saved - h;
    const double down = loss();
    v = saved;
    return (up - down) / (2 * h);
  };
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::fmax(worst, std::fabs(central_difference(x[i]) - dx[i]));
  for (std::size_t i = 0; i < w.size(); ++i) worst = std::fmax(worst, std::fabs(central_difference(w[i]) - dw[i]));
  BOOST_TEST(worst < 1e-7);  // L is linear in each: only rounding remains (about 1e-10 / h)
}
