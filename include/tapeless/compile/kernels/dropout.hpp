#pragma once
// dropout: a / (1 - P) where the mask keeps the element, else 0, while a
// program steps; the identity in a forward-only call. The mask is a hash of
// seed, step, layer and flat position, so the backward pass recomputes it.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/expr/dropout.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Dropout's mask at flat positions index, index + 1, ...: 0 or 1 / (1 - P).
template <class Op, class V, class T>
TAPELESS_ALWAYS_INLINE inline V dropout_mask(std::uint64_t seed, std::uint64_t step, std::size_t index) noexcept {
  constexpr T scale = static_cast<T>(1.0 / (1.0 - Op::probability));
  if constexpr (simd::batch_value<V>) {
    alignas(V::arch_type::alignment()) T lanes[V::size];
    for (std::size_t l = 0; l < V::size; ++l) lanes[l] = Op::keeps(seed, step, index + l) ? scale : T(0);
    return V::load_aligned(lanes);
  } else {
    return Op::keeps(seed, step, index) ? scale : T(0);
  }
}

// An elementwise loop like any other, but the mask is drawn per flat
// position: only in a loop over its own shape.
struct dropout_family : elementwise_family {
  static constexpr bool positional = true;

  template <class F, std::size_t J, class V, class Ctx>
  TAPELESS_ALWAYS_INLINE static V loop_value(const Ctx& c, std::size_t row, std::size_t col,
                                             const V& product) noexcept {
    using N = typename F::sched::template node_at<J>;
    const V a = F::template value<operand_index<typename F::sched, J, 0>, V>(c, row, col, product);
    if (!c.training) return a;
    return a * dropout_mask<typename N::operation, V, typename F::T>(c.random_seed, c.steps_taken,
                                                                      row * F::columns + col);
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <std::uint64_t Salt, structural_double P>
struct op_family<dropout_op<Salt, P>> {
  using type = dropout_family;
};

}  // namespace tapeless::detail
