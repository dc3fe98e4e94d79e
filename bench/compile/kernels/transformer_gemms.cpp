// The GEMMs of examples/tiny_transformer alone (plain stores, no fused
// epilogues), to time what g++'s back end spends on GEMM kernels apart from
// the rest of a program; not part of the default workload of measure.py:
//
//   python3 bench/compile/measure.py --flags "-O2 -march=native -DNDEBUG" \
//       --include <tree A>/include --include <tree B>/include bench/compile/kernels/transformer_gemms.cpp
//
// The shapes: the projections and the feed-forward layer at batch 32 x 64
// positions and at 64 positions (the sampler), their gradients, and the
// attention products of one entry (4 heads of width 16) in a loop over the
// entries, as compile/kernels/batch_matmul.hpp runs them.

#include <tapeless/simd/gemm.hpp>

#include <cstddef>

namespace simd = tapeless::simd;
using simd::op;
using arch = xsimd::default_arch;

#define TAPELESS_GEMM_SHARE(M, K, N, A, B)                                                                \
  template void simd::gemm_share<M, K, N, op::A, op::B, arch, float, simd::epilogue::store>(              \
      const float*, const float*, float*, simd::epilogue::store, std::size_t, std::size_t);

TAPELESS_GEMM_SHARE(128, 2048, 64, transpose, none)
TAPELESS_GEMM_SHARE(192, 2048, 64, transpose, none)
TAPELESS_GEMM_SHARE(64, 2048, 128, transpose, none)
TAPELESS_GEMM_SHARE(64, 2048, 64, transpose, none)
TAPELESS_GEMM_SHARE(2048, 128, 64, none, none)
TAPELESS_GEMM_SHARE(2048, 192, 64, none, none)
TAPELESS_GEMM_SHARE(2048, 64, 128, none, none)
TAPELESS_GEMM_SHARE(2048, 64, 64, none, none)
TAPELESS_GEMM_SHARE(2048, 128, 64, none, transpose)
TAPELESS_GEMM_SHARE(2048, 64, 128, none, transpose)
TAPELESS_GEMM_SHARE(2048, 64, 192, none, transpose)
TAPELESS_GEMM_SHARE(2048, 64, 64, none, transpose)
TAPELESS_GEMM_SHARE(64, 128, 64, none, transpose)
TAPELESS_GEMM_SHARE(64, 64, 128, none, transpose)
TAPELESS_GEMM_SHARE(64, 64, 192, none, transpose)
TAPELESS_GEMM_SHARE(64, 64, 64, none, transpose)

template <std::size_t M, std::size_t K, std::size_t N, op A, op B>
[[gnu::noinline]] void entries(const float* a, const float* b, float* c, std::size_t count) noexcept {
  for (std::size_t e = 0; e < count; ++e)
    simd::gemm_inlined<M, K, N, A, B, arch>(a + e * M * K, b + e * K * N, c + e * M * N);
}

template void entries<64, 16, 64, op::none, op::transpose>(const float*, const float*, float*, std::size_t) noexcept;
template void entries<64, 16, 64, op::none, op::none>(const float*, const float*, float*, std::size_t) noexcept;
template void entries<64, 64, 16, op::none, op::none>(const float*, const float*, float*, std::size_t) noexcept;
template void entries<64, 64, 16, op::transpose, op::none>(const float*, const float*, float*, std::size_t) noexcept;
template void entries<16, 64, 64, op::transpose, op::none>(const float*, const float*, float*, std::size_t) noexcept;
