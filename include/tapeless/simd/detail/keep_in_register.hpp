#pragma once
// keep_in_register(x): tells the compiler that x must be in a vector register
// here (an empty asm statement that takes x in a register and gives it back),
// so that a value loaded once is used from that register, not loaded again.
//
// Why: in the dot-product GEMM tile each loaded batch feeds four to six FMAs.
// GCC 12 folds the load into every one of them as a memory operand, which
// multiplies the loads by four and makes the tile load-bound: 64x256x128
// A B^T ran at 92 GFLOP/s with the folded loads and at 182 with this hint
// (AVX-512, one Zen 5 core). It is a hint to the register allocator, not an
// instruction set choice: the instructions emitted are the same on every
// target, and where the compiler or target is not known it does nothing.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

namespace tapeless::simd::detail {

template <class T, class A>
TAPELESS_ALWAYS_INLINE inline void keep_in_register(xsimd::batch<T, A>& x) noexcept {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm("" : "+v"(x.data));  // v: any vector register, xmm/ymm/zmm 0-31
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(x.data));  // w: any SIMD register
#else
  (void)x;
#endif
}

}  // namespace tapeless::simd::detail
