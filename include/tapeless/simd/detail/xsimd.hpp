#pragma once
// xsimd, as the simd layer includes it: with GCC's uninitialized-variable
// warnings off for the text of xsimd and of the intrinsics headers it pulls
// in, where GCC 12 reports the "don't care" operands of AVX-512 intrinsics
// (GCC bug 105593; see silence_gcc_avx512_warnings.hpp). Where xsimd was
// already included before, the macros around the kernels still apply.

#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN
#include <xsimd/xsimd.hpp>
TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END
