#pragma once
// What the build's target core (-march) says about the cost of shuffles and
// of loads split over two cache lines, for the few kernels whose best form
// differs between cores that run AVX-512 equally well otherwise.
//
// Intel's AVX-512 cores execute 512-bit shuffles on one port, and that port
// is also one of the two that run 512-bit FMAs: a shuffle there takes the
// place of an FMA. AMD's Zen 4 and 5 shuffle on pipes of their own. And a
// 512-bit load that straddles two cache lines costs an Intel core about two
// loads, where a Zen 5 takes it nearly at the price of one (W2's X W^T with X
// 16 bytes off a line: copying X to aligned rows first made it 10% faster on
// a Xeon, 10-20% slower on a Zen 5; bench/results/kernels.md).
// The compilers name the -march target in a macro: g++ one per Intel core,
// clang 14 `__corei7__` for every Intel core. Any other target (a generic
// x86-64-v4, an AMD core, a core the compiler does not know) keeps the forms
// measured on the reference machine, a Zen 5.
// TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT=0 or 1 and TAPELESS_SPLIT_LOADS_ARE_SLOW=0
// or 1 override the guesses (the tests build both forms on any machine).

namespace tapeless::simd::detail {

inline constexpr bool intel_avx512_target =
#if defined(__AVX512F__) &&                                                                                  \
    (defined(__skylake_avx512__) || defined(__cascadelake__) || defined(__cooperlake__) ||                   \
     defined(__cannonlake__) || defined(__icelake_client__) || defined(__icelake_server__) ||                \
     defined(__tigerlake__) || defined(__rocketlake__) || defined(__sapphirerapids__) ||                     \
     defined(__emeraldrapids__) || defined(__graniterapids__) || defined(__corei7__))
    true;
#else
    false;
#endif

inline constexpr bool shuffles_take_an_fma_port =
#if defined(TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT)
    TAPELESS_SHUFFLES_TAKE_AN_FMA_PORT != 0;
#else
    intel_avx512_target;
#endif

// Is a load split over two cache lines worth a copy to aligned memory first?
inline constexpr bool split_loads_are_slow =
#if defined(TAPELESS_SPLIT_LOADS_ARE_SLOW)
    TAPELESS_SPLIT_LOADS_ARE_SLOW != 0;
#else
    intel_avx512_target;
#endif

}  // namespace tapeless::simd::detail
