#pragma once
// Losses, as plain expressions over the ops (so their gradients need no rule
// of their own, and print as what they are).
//
//   tl::cross_entropy(logits, labels)   // logits [B, C], integer labels [B]: mean over
//                                       // the batch of logsumexp(z_b) - z_b[y_b]
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
