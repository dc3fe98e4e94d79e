#define BOOST_TEST_MODULE simd_gemm_large
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/gemm.hpp>

using namespace simd_test;

// The 784-256-128-10 MLP at batch 64, W stored [out, in] as PyTorch does:
// forward X W^T, input gradient dY W, weight gradient dY^T X.
BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_on_the_mlp_shapes, Arch, archs) {
  BOOST_TEST((gemm_error<64, 784, 256, op::none, op::transpose, Arch>() < 1));
  BOOST_TEST((gemm_error<64, 256, 128, op::none, op::transpose, Arch>() < 1));
  BOOST_TEST((gemm_error<64, 128, 10, op::none, op::transpose, Arch>() < 1));
  BOOST_TEST((gemm_error<64, 256, 784, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<64, 128, 256, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<64, 10, 128, op::none, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<256, 64, 784, op::transpose, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<128, 64, 256, op::transpose, op::none, Arch>() < 1));
  BOOST_TEST((gemm_error<10, 64, 128, op::transpose, op::none, Arch>() < 1));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(gemm_matches_double_reference_on_a_large_shape_in_all_transpose_combinations, Arch,
                              archs) {
  check_all_transposes<64, 784, 256, Arch>();
}

BOOST_AUTO_TEST_CASE(gemm_reads_unaligned_operands) {
  // Every matrix one float past a 64-byte boundary.
  constexpr std::size_t M = 9, K = 21, N = 35;
  auto a = random_vector<float>(M * K + 1, 4), b = random_vector<float>(K * N + 1, 5);
  std::vector<float> c(M * N + 1);
  tapeless::simd::gemm<M, K, N>(a.data() + 1, b.data() + 1, c.data() + 1);
  BOOST_TEST((worst_error<M, K, N, op::none, op::none>(a.data() + 1, b.data() + 1, c.data() + 1) < 1));
  tapeless::simd::gemm<M, K, N, op::none, op::transpose>(a.data() + 1, b.data() + 1, c.data() + 1);
  BOOST_TEST((worst_error<M, K, N, op::none, op::transpose>(a.data() + 1, b.data() + 1, c.data() + 1) < 1));
}
