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

#include <tapeless/expr/activations.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/minmax.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/reduce.hpp>

namespace tapeless {

template <expression Z, expression L>
constexpr auto cross_entropy(const Z& logits, const L& labels) {
  if constexpr (detail::check_gather<Z, L>())
    return mean(logsumexp<-1>(logits) - gather(logits, labels));
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto mse(const A& prediction, const B& target) {
  return mean(square(prediction - target));
}

template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto l1_loss(const A& prediction, const B& target) {
  return mean(abs(prediction - target));
}

// PyTorch's HuberLoss: 0.5 d^2 where |d| < delta, delta (|d| - delta/2)
// elsewhere, written as 0.5 m^2 + delta (|d| - m) with m = min(|d|, delta).
template <operand A, operand B>
  requires(expression<A> || expression<B>)
constexpr auto huber(const A& prediction, const B& target) {
  const auto d = abs(prediction - target);
  const auto m = min(d, c<1>);
  return mean(c<1, 2> * square(m) + (d - m));
}
template <operand A, operand B, class D>
  requires((expression<A> || expression<B>) && std::is_arithmetic_v<D>)
constexpr auto huber(const A& prediction, const B& target, D delta) {
  const auto d = abs(prediction - target);
  const auto m = min(d, delta);
  return mean(c<1, 2> * square(m) + delta * (d - m));
}

// Binary cross-entropy of logits z against targets t in [0, 1], as
// torch.nn.functional.binary_cross_entropy_with_logits (mean): softplus(z) - z t.
template <expression Z, operand T>
constexpr auto binary_cross_entropy_with_logits(const Z& logits, const T& targets) {
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
