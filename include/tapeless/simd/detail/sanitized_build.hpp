#pragma once
// TAPELESS_SANITIZED_BUILD: defined when AddressSanitizer instruments this
// translation unit (clang's __has_feature, g++'s __SANITIZE_ADDRESS__). Code
// is then kept small rather than fast: AddressSanitizer checks every memory
// access with a branch of its own, and clang 14's register allocator, whose
// work grows with blocks times values, spent three quarters of 203 s of CPU
// (-O1) for tests/nn/training.cpp on two 32x32x16 GEMMs whose k loop was
// fully unrolled (the file: 20 s at -O3 without the sanitizer, 31 s with it
// now). So, in such a build:
//   - a GEMM's k loop stays a loop (gemm_plan.hpp);
//   - a compiled step calls its kernels as functions and is not flattened
//     (TAPELESS_KERNEL_INLINE; compile/program.hpp).
// Results may differ from a release build's in the last bits (an order of
// summation), as they may between optimization levels anyway.

#include <tapeless/simd/detail/forced_inlining.hpp>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TAPELESS_SANITIZED_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TAPELESS_SANITIZED_BUILD)
#define TAPELESS_SANITIZED_BUILD 1
#endif

#if defined(TAPELESS_SANITIZED_BUILD)
#define TAPELESS_KERNEL_INLINE [[gnu::noinline]]
#else
#define TAPELESS_KERNEL_INLINE TAPELESS_ALWAYS_INLINE
#endif
