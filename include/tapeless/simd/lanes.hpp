#pragma once
// Values a kernel works on: an xsimd batch in a loop's body, a plain scalar
// in its tail. The helpers here load, store and count lanes of either, so
// that one generic callable (a fused elementwise function, a GEMM epilogue)
// serves both.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <cstddef>
#include <type_traits>

namespace tapeless::simd {

namespace detail {
template <class V>
inline constexpr bool is_batch = false;
template <class T, class A>
inline constexpr bool is_batch<xsimd::batch<T, A>> = true;
}  // namespace detail

// True for an xsimd::batch, false for a scalar.
template <class V>
concept batch_value = detail::is_batch<std::remove_cvref_t<V>>;

// Lanes of a value: batch size, or 1 for a scalar.
template <class V>
inline constexpr std::size_t lanes_of = [] {
  if constexpr (batch_value<V>)
    return std::remove_cvref_t<V>::size;
  else
    return std::size_t{1};
}();

// Lanes of a batch of T on Arch.
template <class T, class Arch>
inline constexpr std::size_t lanes = xsimd::batch<T, Arch>::size;

// Loads a V (a batch or a scalar) from p, which need not be aligned.
template <class V, class T>
TAPELESS_ALWAYS_INLINE inline V load(const T* p) noexcept {
  if constexpr (batch_value<V>)
    return V::load_unaligned(p);
  else
    return static_cast<V>(*p);
}

// Stores v (a batch or a scalar) at p, which need not be aligned.
template <class T, class V>
TAPELESS_ALWAYS_INLINE inline void store(T* p, const V& v) noexcept {
  if constexpr (batch_value<V>)
    v.store_unaligned(p);
  else
    *p = static_cast<T>(v);
}

// a * b + c: a fused multiply-add for batches (emulated by xsimd where the
// instruction set has none); for scalars the plain expression, which does not
// call the slow software std::fma where there is no FMA instruction.
template <class V>
TAPELESS_ALWAYS_INLINE inline V multiply_add(const V& a, const V& b, const V& c) noexcept {
  if constexpr (batch_value<V>)
    return xsimd::fma(a, b, c);
  else
    return a * b + c;
}

}  // namespace tapeless::simd
