#define BOOST_TEST_MODULE simd_gemm_alignment
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/gemm.hpp>

#include <cstddef>
#include <cstring>
#include <vector>

using namespace simd_test;

namespace {

// C = A B^T with A starting `offset` elements past a 64-byte boundary: the
// dot-product kernel reads a misaligned A in place or, where the target's
// split loads are slow, copies it into aligned panels (gemm.hpp; the build
// with TAPELESS_SPLIT_LOADS_ARE_SLOW=0 or 1 takes one form on any core):
// either must give the bits of the aligned call, and the double reference.
template <std::size_t M, std::size_t K, std::size_t N, class Arch>
void check_offsets() {
  BOOST_TEST_MESSAGE("a misaligned A copied to aligned rows first: " << tapeless::simd::detail::split_loads_are_slow);
  const auto a = random_vector<float>(M * K, 11), b = random_vector<float>(N * K, 12);
  alignas(64) static float storage[M * K + 64];
  std::vector<float> aligned_c(M * N), c(M * N);
  std::memcpy(storage, a.data(), sizeof(float) * M * K);
  tapeless::simd::gemm<M, K, N, op::none, op::transpose, Arch>(storage, b.data(), aligned_c.data());
  BOOST_TEST((worst_error<M, K, N, op::none, op::transpose>(storage, b.data(), aligned_c.data()) < 1));
  for (std::size_t offset : {1, 3, 4, 8, 15}) {
    std::memcpy(storage + offset, a.data(), sizeof(float) * M * K);
    c.assign(M * N, -1.0f);
    tapeless::simd::gemm<M, K, N, op::none, op::transpose, Arch>(storage + offset, b.data(), c.data());
    BOOST_TEST(std::memcmp(c.data(), aligned_c.data(), sizeof(float) * M * N) == 0,
               M << "x" << K << "x" << N << " on " << Arch::name() << ", A " << offset << " floats off");
  }
}

}  // namespace

// W2's first layer (64 rows: panels of whole tiles), rows that leave a
// partial tile in the last panel, and more rows than one panel holds.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_b_transposed_gives_the_same_bits_wherever_a_starts, Arch, archs) {
  check_offsets<64, 784, 256, Arch>();
  check_offsets<23, 256, 30, Arch>();
  check_offsets<70, 512, 20, Arch>();
}
