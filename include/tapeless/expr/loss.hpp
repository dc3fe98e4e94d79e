#pragma once
// Losses, as plain expressions over the ops (so their gradients need no rule
// of their own, and print as what they are).
//
//   tl::cross_entropy(logits, labels)   // logits [B, C], integer labels [B]: mean over
//                                       // the batch of logsumexp(z_b) - z_b[y_b]
//   tl::mse(prediction, target)         // mean of the squared differences

#include <tapeless/expr/elementary.hpp>
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

}  // namespace tapeless
