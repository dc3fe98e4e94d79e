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
