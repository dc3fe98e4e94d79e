#pragma once
// tl::flush_denormals: while one lives, the calling thread's arithmetic takes
// subnormal floats as zero, read or produced (x86-64: MXCSR's DAZ and FTZ
// bits; AArch64: FPCR's FZ bit; elsewhere nothing changes).
//
//   {
//     const tl::flush_denormals no_subnormals;   // this thread, this scope
//     for (...) trainer.step(params, ...);
//   }                                            // the previous mode again
//
// Why: an Intel core takes a microcode assist, over a hundred cycles, for
// each subnormal an SSE or AVX instruction reads or makes. A network trained
// to a small loss makes them in its gradients: W2's step on a Xeon took
// 0.52 ms per step over the first 200 steps and 1.33 ms over the first 4000,
// the hand-written loop alike (bench/results/batch1.md). AMD's Zen cores
// handle subnormals in hardware for most operations. Off by default, as in PyTorch
// (torch.set_flush_denormal): a flushed value is 0 where IEEE arithmetic
// keeps a subnormal, which audio and control code usually wants and a
// bit-for-bit comparison with PyTorch does not.
//
// A tl::thread_pool's workers take the mode of the thread that calls run()
// for each run, so a program lent a pool computes the same bits on any
// thread count with or without it.

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tapeless {

namespace detail {

#if defined(__x86_64__) || defined(__i386__)
inline constexpr std::uint32_t flush_bits = 0x8040;  // MXCSR: FTZ (bit 15) and DAZ (bit 6)
#elif defined(__aarch64__)
inline constexpr std::uint32_t flush_bits = 1u << 24;  // FPCR: FZ
#else
inline constexpr std::uint32_t flush_bits = 0;
#endif

// The calling thread's flush bits (0 when it keeps subnormals).
inline std::uint32_t denormal_mode() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return _mm_getcsr() & flush_bits;
#elif defined(__aarch64__)
  std::uint64_t fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  return static_cast<std::uint32_t>(fpcr) & flush_bits;
#else
  return 0;
#endif
}

// Sets the calling thread's flush bits to `mode` (a value denormal_mode gave).
inline void set_denormal_mode(std::uint32_t mode) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr((_mm_getcsr() & ~flush_bits) | (mode & flush_bits));
#elif defined(__aarch64__)
  std::uint64_t fpcr;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = (fpcr & ~std::uint64_t{flush_bits}) | (mode & flush_bits);
  __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
#else
  (void)mode;
#endif
}

}  // namespace detail

class flush_denormals {
 public:
  flush_denormals() noexcept : previous_(detail::denormal_mode()) { detail::set_denormal_mode(detail::flush_bits); }
  ~flush_denormals() { detail::set_denormal_mode(previous_); }
  flush_denormals(const flush_denormals&) = delete;
  flush_denormals& operator=(const flush_denormals&) = delete;

  // Whether this build's target has a flush mode (x86-64, AArch64).
  static constexpr bool supported = detail::flush_bits != 0;

 private:
  std::uint32_t previous_;
};

}  // namespace tapeless
