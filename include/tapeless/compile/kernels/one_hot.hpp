#pragma once
// one_hot [B, C] from integer labels [B]: 1 in column labels(b) of row b.
// Computed inside a loop over its own shape (the column is its position).

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Lane indices 0, 1, ..., W - 1 as a batch of T.
template <class V>
TAPELESS_ALWAYS_INLINE inline V lane_indices() noexcept {
  using T = typename V::value_type;
  alignas(V::arch_type::alignment()) T lanes[V::size];
  for (std::size_t l = 0; l < V::size; ++l) lanes[l] = static_cast<T>(l);
  return V::load_aligned(lanes);
}

// An elementwise loop like any other (its run is elementwise_family's), but
// its value depends on its column: only in a loop over its own shape, by rows.
struct one_hot_family : elementwise_family {
  static constexpr bool positional = true;
  static constexpr bool flat_loop_ok = false;

  // Class ids outside [0, C) are found before the step runs (run_error.hpp).
  template <class Sched, std::size_t J, class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<J>;
    using Labels = typename front<typename operands_of<N>::type>::type;
    return check_class_ids(Sched::template pointer<operand_index<Sched, J, 0>>(c), shape_of<N>::dims[0],
                           shape_of<N>::dims[1], name_of_labels<Labels>());
  }

  template <class F, std::size_t J, class V, class Ctx>
  TAPELESS_ALWAYS_INLINE static V loop_value(const Ctx& c, std::size_t row, std::size_t col, const V&) noexcept {
    using T = typename F::T;
    const auto* labels = F::sched::template pointer<operand_index<typename F::sched, J, 0>>(c);
    const T label = static_cast<T>(labels[row]);
    if constexpr (simd::batch_value<V>)
      return xsimd::select(lane_indices<V>() + V(static_cast<T>(col)) == V(label), V(1), V(0));
    else
      return static_cast<T>(col) == label ? T(1) : T(0);
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <std::size_t B, std::size_t C>
struct op_family<one_hot_op<B, C>> {
  using type = one_hot_family;
};

}  // namespace tapeless::detail
