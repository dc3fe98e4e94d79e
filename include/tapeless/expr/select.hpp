#pragma once
// select(c, a, b): a where c holds, else b. For numbers it is defined here;
// for SIMD batches (c a batch_bool) argument-dependent lookup finds
// xsimd::select. So an operation whose value branches, written with select,
// evaluates on numbers and on SIMD lanes alike, and needs no SIMD form of its
// own in compile/ (docs/adding-an-op.md).

namespace tapeless {

template <class T>
constexpr T select(bool condition, T a, T b) {
  return condition ? a : b;
}

}  // namespace tapeless
