#pragma once
// Elementwise operations (+ - * /, exp, tanh, max, where, ...): computed
// inside their consumer's loop when they can be, else in a loop of their own.
// An operation needs nothing here: its scalar `apply` is its value, and its
// SIMD value is compile/detail/simd_apply.hpp's (the same `apply` on batches
// unless the op branches).

#include <cstddef>
#include <utility>

#include <tapeless/compile/detail/simd_apply.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>

namespace tapeless::detail {

struct elementwise_family : kernel_family_defaults {
  // One value per element from the operands' values at that element: it can
  // be computed wherever its element is, inside its consumer's loop,
  static constexpr bool fuses_into_consumer = true;
  // and when it has a loop of its own, that loop computes its operands too
  // (and may be a product's epilogue).
  static constexpr bool elementwise_loop = true;
  static constexpr bool hosts_fused_operands = true;

  template <class F, std::size_t J, class V, class Ctx>
  TAPELESS_ALWAYS_INLINE static V loop_value(const Ctx& c, std::size_t row, std::size_t col,
                                             const V& product) noexcept {
    using N = typename F::sched::template node_at<J>;
    using Op = typename N::operation;
    using operands = typename operands_of<N>::type;
    // Operands by position, not by type: see family.hpp on loop_value.
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
      return apply_op<Op, V>(
          operand_value<F, Op, F::sched::template index<typename type_at<K, operands>::type>, V>(c, row, col,
                                                                                                product)...);
    }(std::make_index_sequence<operands::size>{});
  }

  // Operand J as the op takes it: exact exponents of pow stay types.
  template <class F, class Op, std::size_t J, class V, class Ctx>
  TAPELESS_ALWAYS_INLINE static auto operand_value(const Ctx& c, std::size_t row, std::size_t col,
                                                   const V& product) noexcept {
    using O = typename F::sched::template node_at<J>;
    if constexpr (requires { Op::takes_exact_operands; } && is_exact<O>)
      return O{};
    else
      return F::template value<J, V>(c, row, col, product);
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    run_elementwise_loop<Sched, I>(c);
  }
};

}  // namespace tapeless::detail
