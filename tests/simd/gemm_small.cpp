#define BOOST_TEST_MODULE simd_gemm_small
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/gemm.hpp>

using namespace simd_test;

BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_on_tiny_shapes_in_all_transpose_combinations, Arch, archs) {
  check_all_transposes<1, 16, 32, Arch>();
  check_all_transposes<32, 32, 32, Arch>();
}

// A B^T with a short k in whole blocks goes through a copy of B^T made by
// block transposes: 16x16x16 with every batch size, 8x64x48 with AVX-512.
BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_when_b_transposed_is_packed, Arch, archs) {
  check_all_transposes<16, 16, 16, Arch>();
  check_all_transposes<8, 64, 48, Arch>();
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_in_double_precision_matches_reference, Arch, archs) {
  check_all_transposes<7, 13, 5, Arch, double>();
  check_all_transposes<33, 65, 17, Arch, double>();
  check_all_transposes<64, 128, 10, Arch, double>();
}
