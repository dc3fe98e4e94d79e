#pragma once
// Losses, as plain expressions over the ops (so their gradients need no rule
// of their own, and print as what they are).
//
//   tl::cross_entropy(logits, labels)   // logits [B, C], integer labels [B]: mean over
//                                       // the batch of logsumexp(z_b) - z_b[y_b]
//   tl::cross_entropy(logits, labels, w) // w [B] row weights: sum_b w_b l_b / sum_b w_b;
//                                       // a 0/1 mask averages over the rows it keeps
//   tl::mse(prediction, target)         // mean of the squared differences
//   tl::l1_loss(prediction, target)     // mean of the absolute differences
//   tl::huber(prediction, target, delta)         // squared near 0, linear beyond delta
//   tl::binary_cross_entropy_with_logits(z, t)   // stable: softplus(z) - z t, averaged
//   tl::l2_penalty(W1, W2, ...), tl::l1_penalty(...)  // sums of squares / of |w|
//
// A prediction and a target whose shapes differ only by a trailing 1
// ([B, 1] against [B]) do not compile: broadcasting would compare every
// prediction with every target ([B, B]), which PyTorch only warns about.
// Say what is meant: tl::reshape<B>(prediction), or a target of shape [B, 1].

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/activations.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/reduce.hpp>

namespace tapeless {

namespace detail {

// Fails with both shapes in the instantiation context, which compilers print:
// "loss_shapes_differ_by_a_trailing_1<"mse", shape<8, 1>, shape<8>>".
template <fixed_string Loss, class Prediction, class Target>
struct loss_shapes_differ_by_a_trailing_1 {
  static_assert(always_false<Prediction, Target>,
                "tapeless loss (mse, l1_loss, huber, binary_cross_entropy_with_logits): the "
                "prediction's and the target's shapes (see loss_shapes_differ_by_a_trailing_1<loss, "
                "prediction, target> above) differ only by a trailing 1, so broadcasting would pair "
                "every prediction with every target; reshape one to the other's shape "
                "(tl::reshape<...>(prediction)) or give the target the prediction's shape");
  static constexpr bool ok = false;
};

// Is Longer the shape Shorter with one more dimension of 1 at the end?
template <class Longer, class Shorter>
constexpr bool is_with_trailing_1() {
  if constexpr (Longer::rank != Shorter::rank + 1 || Shorter::rank == 0)
    return false;
  else {
    for (std::size_t i = 0; i < Shorter::rank; ++i)
      if (Longer::dims[i] != Shorter::dims[i]) return false;
    return Longer::dims[Shorter::rank] == 1;
  }
}

template <fixed_string Loss, class A, class B>
constexpr bool check_loss_shapes() {
  using SA = typename as_expression_t<A>::shape_type;
  using SB = typename as_expression_t<B>::shape_type;
  if constexpr (is_with_trailing_1<SA, SB>() || is_with_trailing_1<SB, SA>())
    return loss_shapes_differ_by_a_trailing_1<Loss, SA, SB>::ok;
  else
    return true;
}

}  // namespace detail

template <expression Z, expression L>
constexpr auto cross_entropy(const Z& logits, const L& labels) {
  if constexpr (detail::check_gather<Z, L>())
    return mean(logsumexp<-1>(logits) - gather(logits, labels));
}

namespace detail {

template <class Logits, class Weights>
struct row_weights_need_shape_b_and_a_floating_type {
  static_assert(always_false<Logits, Weights>,
                "tl::cross_entropy(logits, labels, row_weights): row_weights must be a floating-point "
                "expression of shape [B], one weight per row of the logits [B, C] (for a padded batch, "
                "tl::input<\"M\", float, B> bound to tl::train::valid_row_mask(batch)); see both shapes above");
  static constexpr bool ok = false;
};

template <class Z, class W>
constexpr bool check_row_weights() {
  using SZ = shape_of<Z>;
  using SW = shape_of<W>;
  using element = typename element_of_leaf<W>::type;
  if constexpr (SW::rank == 1 && SZ::rank == 2 && (std::is_void_v<element> || std::is_floating_point_v<element>)) {
    if constexpr (SW::dims[0] == SZ::dims[0])
      return true;
    else
      return row_weights_need_shape_b_and_a_floating_type<SZ, SW>::ok;
  } else
    return row_weights_need_shape_b_and_a_floating_type<SZ, SW>::ok;
}

}  // namespace detail

// The weighted mean of the rows' cross-entropies, as torch's
// (w * F.cross_entropy(z, y, reduction="none")).sum() / w.sum(): rows of
// weight 0 (a padded batch's) add nothing to the loss or the gradients. The
// weights are meant as data (an input). All weights 0 gives NaN.
template <expression Z, expression L, expression W>
constexpr auto cross_entropy(const Z& logits, const L& labels, const W& row_weights) {
  if constexpr (detail::check_gather<Z, L>() && detail::check_row_weights<Z, W>())
    return sum(row_weights * (logsumexp<-1>(logits) - gather(logits, labels))) / sum(row_weights);
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto mse(const A& prediction, const B& target) {
  if constexpr (detail::check_loss_shapes<"mse", A, B>()) return mean(square(prediction - target));
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto l1_loss(const A& prediction, const B& target) {
  if constexpr (detail::check_loss_shapes<"l1_loss", A, B>()) return mean(abs(prediction - target));
}

// PyTorch's HuberLoss: 0.5 d^2 where |d| < delta, delta (|d| - delta/2)
// elsewhere, written as 0.5 m^2 + delta (|d| - m) with m = min(|d|, delta).
template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto huber(const A& prediction, const B& target) {
  if constexpr (detail::check_loss_shapes<"huber", A, B>()) {
    const auto d = abs(prediction - target);
    const auto m = min(d, c<1>);
    return mean(c<1, 2> * square(m) + (d - m));
  }
}
template <operand A, operand B, class D>
  requires((expression<A> || expression<B>) && std::is_arithmetic_v<D>)
constexpr auto huber(const A& prediction, const B& target, D delta) {
  if constexpr (detail::check_loss_shapes<"huber", A, B>()) {
    const auto d = abs(prediction - target);
    const auto m = min(d, delta);
    return mean(c<1, 2> * square(m) + delta * (d - m));
  }
}

// Binary cross-entropy of logits z against targets t in [0, 1], as
// torch.nn.functional.binary_cross_entropy_with_logits (mean): softplus(z) - z t.
template <expression Z, operand T>
constexpr auto binary_cross_entropy_with_logits(const Z& logits, const T& targets) {
  if constexpr (detail::check_loss_shapes<"binary_cross_entropy_with_logits", Z, T>())
    return mean(softplus(logits) - logits * targets);
}

template <expression... W>
  requires(sizeof...(W) > 0)
constexpr auto l2_penalty(const W&... weights) {
  return (sum(square(weights)) + ...);
}
template <expression... W>
  requires(sizeof...(W) > 0)
constexpr auto l1_penalty(const W&... weights) {
  return (sum(abs(weights)) + ...);
}

}  // namespace tapeless
