#define BOOST_TEST_MODULE simd_gemm_edges
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/gemm.hpp>

using namespace simd_test;

// Shapes that reach every edge of the tiling: rows left over after whole
// tiles, batches left over after whole column panels, scalar tail columns, a
// k loop with a scalar tail (dot products), k shorter than one batch, fully
// unrolled (K <= 32) and looped k.
BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_on_odd_shapes_in_all_transpose_combinations, Arch, archs) {
  check_all_transposes<1, 1, 1, Arch>();
  check_all_transposes<7, 13, 5, Arch>();
  check_all_transposes<33, 65, 17, Arch>();
  check_all_transposes<19, 37, 50, Arch>();
  check_all_transposes<70, 3, 40, Arch>();
  check_all_transposes<5, 100, 3, Arch>();
  check_all_transposes<2, 31, 66, Arch>();
}

// The shapes of a recurrent layer's input side (nn/detail/recurrent.hpp),
// scaled down: x W^T with a depth of 28 features (not whole batches: B^T is
// copied one column panel at a time), and the weight gradient dY^T X whose
// 28 columns are not whole batches (computed as its transpose): with rows
// and columns left over after whole panels, and in every transpose
// combination, on every instruction set.
BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_on_recurrent_input_shapes, Arch, archs) {
  check_all_transposes<100, 28, 80, Arch>();
  check_all_transposes<64, 100, 28, Arch>();
  check_all_transposes<96, 57, 12, Arch>();
  check_all_transposes<9, 12, 37, Arch>();
}

// A B^T whose k is long but under about lanes / 2 times A's rows
// (gemm_plan's pack_long_panels_of_b): B^T copied one column panel at a time
// by block transposes, with rows left over after whole tiles and a batch of
// columns after the whole panels; and W2's fc2 X W^T, whose path depends on
// the instruction set. Each shape's path is asserted, so a change of the
// rule that moves it shows here.
BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_where_b_transposed_is_packed_in_long_panels, Arch, archs) {
  using tapeless::simd::detail::gemm_plan;
  constexpr std::size_t w = xsimd::batch<float, Arch>::size;
  static_assert(gemm_plan<float, Arch, 37, 6 * w, 3 * w, op::none, op::transpose>::pack_long_panels_of_b);
  BOOST_TEST((gemm_error<37, 6 * w, 3 * w, op::none, op::transpose, Arch>() < 1));
  using fc2 = gemm_plan<float, Arch, 64, 256, 128, op::none, op::transpose>;
  static_assert(fc2::pack_long_panels_of_b == (w == 16) && fc2::dot_products == (w != 16));
  BOOST_TEST((gemm_error<64, 256, 128, op::none, op::transpose, Arch>() < 1));
  // k at lanes / 2 times the rows: dot products.
  static_assert(gemm_plan<float, Arch, 12, 6 * w, 2 * w, op::none, op::transpose>::dot_products);
  BOOST_TEST((gemm_error<12, 6 * w, 2 * w, op::none, op::transpose, Arch>() < 1));
}
