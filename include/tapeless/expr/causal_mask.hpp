#pragma once
// Causal masking of attention scores, as torch's attn_mask of
// nn.Transformer.generate_square_subsequent_mask: in scores [..., T, T]
// (queries by keys), a key after its query gets -inf, so that a softmax over
// the keys gives it weight 0.
//
//   tl::softmax<-1>(tl::causal_mask(scores))
//
// Every query sees at least itself (the diagonal stays), so a stable softmax
// never meets a row of -inf only: no exp(-inf - -inf). The derivative passes
// the adjoint through below and on the diagonal and sends 0 above it.
//
// The value depends on the element's position: a compiled program computes
// it in a loop over its own shape (compile/kernels/causal_mask.hpp).

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// What an entry above the diagonal becomes.
enum class masked_entry { negative_infinity, zero };

// [..., Length, Length] with entries (i, j), j > i, set to Fill.
template <std::size_t Length, masked_entry Fill>
struct causal_mask_op : elementwise_operation {
  static constexpr std::string_view name = Fill == masked_entry::zero ? "causal_zero" : "causal_mask";
  static constexpr std::size_t length = Length;
  static constexpr masked_entry fill = Fill;
};

namespace detail {

template <class S>
struct causal_mask_needs_square_scores {
  static_assert(always_false<S>,
                "tapeless::causal_mask: the scores must be [..., T, T] (queries by keys, rank 2 or more, the "
                "last two dimensions equal); their shape is above");
  static constexpr bool ok = false;
};

template <masked_entry Fill, class A>
constexpr auto causal_fill(const A& a) {
  using S = shape_of<A>;
  return node<causal_mask_op<S::dims[S::rank - 1], Fill>, A>{a};
}

}  // namespace detail

template <expression A>
constexpr auto causal_mask(const A& a) {
  using S = shape_of<A>;
  if constexpr (S::rank < 2)
    return detail::causal_mask_needs_square_scores<S>::ok;
  else if constexpr (S::dims[S::rank - 1] != S::dims[S::rank - 2])
    return detail::causal_mask_needs_square_scores<S>::ok;
  else
    return detail::causal_fill<masked_entry::negative_infinity>(a);
}

}  // namespace tapeless
