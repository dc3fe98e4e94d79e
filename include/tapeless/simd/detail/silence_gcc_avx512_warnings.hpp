#pragma once
// GCC 12 reports "'__Y' may be used uninitialized" inside its own AVX-512
// intrinsics headers wherever an intrinsic with a "don't care" operand
// (_mm512_undefined_ps() and friends: permutes, extracts, conversions, and so
// xsimd's hadd, exp, tanh, ...) is inlined into user code: a false positive,
// GCC bug 105593. The simd kernels open and close their definitions with
// these two macros so that users building with -Wall on AVX-512 do not see a
// screen of warnings per kernel. Other compilers: nothing.

#if defined(__GNUC__) && !defined(__clang__)
#define TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN                 \
  _Pragma("GCC diagnostic push")                                        \
  _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")                 \
  _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END _Pragma("GCC diagnostic pop")
#else
#define TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN
#define TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END
#endif
