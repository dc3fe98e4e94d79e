#pragma once
// GEMM epilogues: what happens to a finished piece of the product before it
// is stored. The kernel calls
//
//   value_to_store = epilogue(product, at)
//
// once per piece of C, where `product` is op(A) * op(B) there (an
// xsimd::batch of consecutive elements of a row of C, or a scalar at edges)
// and `at` (an output_at) says where the piece is and can read C's current
// value there. The callable must accept both forms (a generic lambda over
// xsimd operations does). It runs while the product is still in registers,
// so a bias, an activation or a parameter update costs no extra pass:
//
//   [&](auto v, auto at) { return xsimd::max(v + at.load(bias + at.col), decltype(v)(0)); } // relu(x W^T + b)
//   [&](auto g, auto at) { return at.c() - lr * g; }                          // W -= lr * G, into C = W
//
// Each element of C gets exactly one call; calls for different pieces come in
// no particular order.

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/lanes.hpp>

#include <cstddef>

namespace tapeless::simd {

// Where a piece of a GEMM's output lies: C(row, col .. col + lanes - 1).
template <class T, class V>
struct output_at {
  T* address;       // &C(row, col)
  std::size_t row;  // row of C
  std::size_t col;  // first column of C covered by the piece

  // C's current value here, as wide as the piece.
  TAPELESS_ALWAYS_INLINE V c() const noexcept { return simd::load<V>(address); }

  // A piece as wide as this one, read from p: at.load(bias + at.col) for a
  // bias per column; a bias per row is a scalar, bias[at.row].
  TAPELESS_ALWAYS_INLINE V load(const T* p) const noexcept { return simd::load<V>(p); }
};

namespace epilogue {

// C = op(A) op(B).
struct store {
  template <class V, class At>
  TAPELESS_ALWAYS_INLINE V operator()(const V& product, const At&) const noexcept {
    return product;
  }
};

// C += op(A) op(B).
struct accumulate {
  template <class V, class At>
  TAPELESS_ALWAYS_INLINE V operator()(const V& product, const At& at) const noexcept {
    return at.c() + product;
  }
};

}  // namespace epilogue

}  // namespace tapeless::simd
