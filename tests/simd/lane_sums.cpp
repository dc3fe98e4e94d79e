#define BOOST_TEST_MODULE simd_lane_sums
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/detail/lane_sums.hpp>

#include <cstddef>
#include <vector>

// lane_sums(z): lane i of the result is the sum of the lanes of z[i]. Checked
// on every instruction set of the build (AVX-512 and AVX2 float take their own
// tree of unpacks and 128-bit shuffles), with values whose sums are exact, so
// any lane taken from the wrong batch or added twice changes the result.

using namespace simd_test;
namespace detail = tapeless::simd::detail;

template <class T, class Arch, class Fill>
void check_lane_sums(Fill fill) {
  using B = xsimd::batch<T, Arch>;
  constexpr std::size_t w = B::size;
  alignas(64) T lanes[w][w];
  B z[w];
  for (std::size_t i = 0; i < w; ++i) {
    for (std::size_t l = 0; l < w; ++l) lanes[i][l] = fill(i, l);
    z[i] = B::load_aligned(lanes[i]);
  }
  alignas(64) T got[w];
  detail::lane_sums(z).store_aligned(got);
  for (std::size_t i = 0; i < w; ++i) {
    T expected = 0;
    for (std::size_t l = 0; l < w; ++l) expected += lanes[i][l];
    BOOST_TEST(got[i] == expected, "lane " << i << " of " << w << ": " << got[i] << " vs " << expected);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(lane_sums_gives_each_batch_its_own_sum_in_order, Arch, archs) {
  // Every batch a different sum, every lane a different value.
  const auto fill = [](std::size_t i, std::size_t l) { return double(i * 100 + l); };
  check_lane_sums<float, Arch>(fill);
  check_lane_sums<double, Arch>(fill);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(lane_sums_takes_a_single_lane_from_its_own_batch, Arch, archs) {
  // One nonzero lane per batch, at a different place in each: a fold that
  // takes a lane from the wrong batch or the wrong half shows as a wrong sum.
  for (std::size_t shift = 0; shift < 16; ++shift) {
    const auto fill = [shift](std::size_t i, std::size_t l) {
      return l == (i * 5 + shift) % xsimd::batch<float, Arch>::size ? double(i + 1) : 0.0;
    };
    check_lane_sums<float, Arch>(fill);
    const auto fill_d = [shift](std::size_t i, std::size_t l) {
      return l == (i * 3 + shift) % xsimd::batch<double, Arch>::size ? double(i + 1) : 0.0;
    };
    check_lane_sums<double, Arch>(fill_d);
  }
}
