#define BOOST_TEST_MODULE simd_gemm_splats
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/detail/target_cpu.hpp>
#include <tapeless/simd/gemm.hpp>

using namespace simd_test;

// A single row of A times B with one batch of columns (a dense layer at batch
// 1 over its packed W^T): with AVX-512 floats, A's values are splats in
// registers or broadcast loads, in the mix simd/detail/target_cpu.hpp picks
// for the target core. Built once per mix (meson.build), so both are checked
// on any machine with AVX-512.
BOOST_AUTO_TEST_CASE_TEMPLATE(one_row_times_one_batch_of_columns_matches_double_reference, Arch, archs) {
  BOOST_TEST_MESSAGE("shuffles take an FMA port: " << tapeless::simd::detail::shuffles_take_an_fma_port);
  BOOST_TEST((gemm_error<1, 16, 16, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<1, 32, 16, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<1, 64, 16, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<1, 48, 8, op::none, op::none, Arch>() < 1));
}
