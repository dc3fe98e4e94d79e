#pragma once
// The graph as the kernels compute it. a / s, where s broadcasts over a
// tensor a (a scalar, a column), becomes a * (1/s): one division per element
// of s instead of one per element of a (a division costs several
// multiplications, and the compiler may not make this change itself: the
// result can differ in the last bit). Applied to the whole graph at once,
// value and gradients, so that what they share stays shared; the expressions
// themselves keep their divisions.

#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/batch_statistics.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/dropout.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/reshape.hpp>

namespace tapeless::detail {

template <class E>
struct kernel_form {
  using type = E;
};
template <class Op, class... Operands>
struct kernel_form<node<Op, Operands...>> {
  using type = node<Op, typename kernel_form<Operands>::type...>;
};
// (Not for a constant s: its reciprocal would be a kernel of its own.)
template <class A, class B>
  requires(shape_of<B>::size < shape_of<A>::size && !is_slot<B> && !is_exact<B>)
struct kernel_form<node<div_op, A, B>> {
  using type = node<mul_op, typename kernel_form<A>::type,
                    node<div_op, exact_constant<rational{1, 1}>, typename kernel_form<B>::type>>;
};
template <class E>
using kernel_form_t = typename kernel_form<E>::type;

// The graph a forward-only call computes: dropout is the identity there (a
// program's forward calls never draw masks), so it is left out. The layer
// before it is then the same subgraph as in the training step, and its GEMM
// and epilogue the same functions (compile/kernels/shared_epilogue.hpp); in
// a CNN's inference program the dropout after fc1 kept a second copy of the
// largest GEMM, with the mask code compiled in and never run.
template <class E>
struct forward_form {
  using type = E;
};
template <class Op, class... Operands>
struct forward_form<node<Op, Operands...>> {
  using type = node<Op, typename forward_form<Operands>::type...>;
};
// dropout(a) -> a
template <std::uint64_t Salt, structural_double P, class A>
struct forward_form<node<dropout_op<Salt, P>, A>> {
  using type = typename forward_form<A>::type;
};
// Batch norm's statistics -> the running estimates they are in a forward-only
// call: the normalized tensor then has one reader, so the layer's whole
// elementwise chain runs as one loop (in a convolution's epilogue, with the
// pooling after it: compile/kernels/conv2d.hpp), where reading it for
// statistics that are not computed kept it in memory.
template <structural_double M, class X, class RunningMean, class Count>
struct forward_form<node<batch_mean_op<M>, X, RunningMean, Count>> {
  using type = node<reshape_op<shape_of<RunningMean>, typename channel_shape<shape_of<X>>::type>, RunningMean>;
};
template <structural_double M, class X, class Mean, class RunningVar>
struct forward_form<node<batch_variance_op<M>, X, Mean, RunningVar>> {
  using type = node<reshape_op<shape_of<RunningVar>, typename channel_shape<shape_of<X>>::type>, RunningVar>;
};
template <class E>
using forward_form_t = typename forward_form<E>::type;

}  // namespace tapeless::detail
