#pragma once
// causal_mask_op: an elementwise loop like any other, but its value depends
// on the element's (query, key) position: only in a loop over its own shape,
// by rows of keys.

#include <cstddef>
#include <limits>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/one_hot.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/causal_mask.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

struct causal_mask_family : elementwise_family {
  static constexpr bool positional = true;
  // A row of the loop is one query's keys.
  static constexpr bool flat_loop_ok = false;

  template <class F, std::size_t J, class V, class Ctx>
  TAPELESS_ALWAYS_INLINE static V loop_value(const Ctx& c, std::size_t row, std::size_t col,
                                             const V& product) noexcept {
    using N = typename F::sched::template node_at<J>;
    using Op = typename N::operation;
    using T = typename F::T;
    static_assert(F::columns == Op::length, "tapeless::compile: causal_mask in a loop not over its keys");
    const V a = F::template value<operand_index<typename F::sched, J, 0>, V>(c, row, col, product);
    constexpr T fill = Op::fill == masked_entry::zero ? T(0) : -std::numeric_limits<T>::infinity();
    const std::size_t query = row % Op::length;
    if constexpr (simd::batch_value<V>)
      return xsimd::select(lane_indices<V>() + V(static_cast<T>(col)) > V(static_cast<T>(query)), V(fill), a);
    else
      return col > query ? fill : a;
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <std::size_t Length, masked_entry Fill>
struct op_family<causal_mask_op<Length, Fill>> {
  using type = causal_mask_family;
};

}  // namespace tapeless::detail
