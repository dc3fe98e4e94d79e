#pragma once
// What the build's target core (-march) says about the cost of shuffles, for
// the few kernels whose best form differs between cores that run AVX-512
// equally well otherwise.
//
// Intel's AVX-512 cores execute 512-bit shuffles on one port, and that port
// is also one of the two that run 512-bit FMAs: a shuffle there takes the
// place of an FMA. AMD's Zen 4 and 5 shuffle on pipes of their own. The
// compilers name the -march target in a macro: g++ one per Intel core, clang
// 14 `__corei7__` for every Intel core. Any other target (a generic
// x86-64-v4, an AMD core, a core the compiler does not know) keeps the forms
// measured on the reference machine, a Zen 5.
// TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT=0 or 1 overrides the guess (the tests
// build both forms on any machine).

namespace tapeless::simd::detail {

inline constexpr bool shuffles_take_an_fma_port =
#if defined(TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT)
    TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT != 0;
#elif defined(__AVX512F__) &&                                                                                  \
    (defined(__skylake_avx512__) || defined(__cascadelake__) || defined(__cooperlake__) ||                   \
     defined(__cannonlake__) || defined(__icelake_client__) || defined(__icelake_server__) ||                \
     defined(__tigerlake__) || defined(__rocketlake__) || defined(__sapphirerapids__) ||                     \
     defined(__emeraldrapids__) || defined(__graniterapids__) || defined(__corei7__))
    true;
#else
    false;
#endif

}  // namespace tapeless::simd::detail
