#pragma once
// Vector-Jacobian products of the tensor operations: matmul, transpose,
// reductions, reshape, broadcast, gather. An adjoint g may arrive smaller than
// its node (a rank-0 seed, a simplified zero) as long as it broadcasts to the
// node's shape; rules that need the full shape ask for it with as_shape.

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/compare.hpp>
#include <tapeless/expr/dropout.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/expr/take_rows.hpp>

namespace tapeless::detail {

using zero_adjoint = exact<rational{0, 1}>;

// g read at shape S (S is g's shape, or one g broadcasts to).
template <class S, class G>
constexpr auto as_shape(G g) {
  return detail::broadcast_to<S>(g);
}

// d(A B) = dA B^T ... : A gets G B^T, B gets A^T G.
template <std::size_t M, std::size_t K, std::size_t N>
struct vjp_rule<matmul_op<M, K, N>> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<matmul_op<M, K, N>, A, B>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else if constexpr (I == 0)
      return node<matmul_op<M, N, K>, decltype(detail::as_shape<shape<M, N>>(g)),
                  decltype(tapeless::transpose(detail::as_shape<shape<K, N>>(B{})))>{};
    else
      return node<matmul_op<K, M, N>, decltype(tapeless::transpose(detail::as_shape<shape<M, K>>(A{}))),
                  decltype(detail::as_shape<shape<M, N>>(g))>{};
  }
};

// d transpose(a) = transpose(da)
template <std::size_t R, std::size_t C>
struct vjp_rule<transpose_op<R, C>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<transpose_op<R, C>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return tapeless::transpose(detail::as_shape<shape<C, R>>(g));
  }
};

// d sum(a): every element of a gets the adjoint of the sum it went into
// (g broadcasts back over the reduced dimensions, lazily).
template <class In, class Out>
struct vjp_rule<reduce_op<sum_reduction, In, Out>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<reduce_op<sum_reduction, In, Out>, A>, G g) {
    return g;
  }
};

// d max(a): the adjoint goes to the elements equal to the maximum (to each of
// them when there is a tie, as torch.amax's gradient does before dividing).
template <class In, class Out>
struct vjp_rule<reduce_op<max_reduction, In, Out>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<reduce_op<max_reduction, In, Out>, A> self, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return detail::make_mul(g, node<equal_op, A, decltype(self)>{});
  }
};

// d logsumexp(a) = softmax(a) da = exp(a - logsumexp(a)) da, the softmax as
// the node a compiled program reads from the reduction's kernel.
template <class In, class Out>
struct vjp_rule<reduce_op<logsumexp_reduction, In, Out>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<reduce_op<logsumexp_reduction, In, Out>, A> self, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return detail::make_mul(g, detail::softmax_of_logsumexp(A{}, self));
  }
};

// s = exp(a - l): ds = s (da - dl), its operands' partials those of exp.
template <>
struct vjp_rule<softmax_of_logsumexp_op> {
  template <std::size_t I, class A, class L, class G>
  static constexpr auto partial(node<softmax_of_logsumexp_op, A, L> self, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else if constexpr (I == 0)
      return detail::make_mul(self, g);
    else
      return detail::make_neg(detail::make_mul(self, g));
  }
};

// d reshape(a) = reshape back of the adjoint
template <class From, class To>
struct vjp_rule<reshape_op<From, To>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<reshape_op<From, To>, A>, G g) {
    if constexpr (shape_of<G>::size == 1)
      return g;  // one value: it broadcasts to any shape
    else
      return detail::reshape_to<From>(detail::as_shape<To>(g));
  }
};

// d broadcast(a) = the adjoint summed back to a's shape (diff/reverse.hpp fits
// every contribution to its operand's shape).
template <class To>
struct vjp_rule<broadcast_to_op<To>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<broadcast_to_op<To>, A>, G g) {
    return g;
  }
};

// d gather(z, y) = one_hot(y) * g per row; labels get no gradient.
template <std::size_t B, std::size_t C>
struct vjp_rule<gather_op<B, C>> {
  template <std::size_t I, class Z, class L, class G>
  static constexpr auto partial(node<gather_op<B, C>, Z, L>, G g) {
    if constexpr (I == 1 || is_zero<G>)
      return zero_adjoint{};
    else if constexpr (shape_of<G>::size == 1)
      return detail::make_mul(node<one_hot_op<B, C>, L>{}, g);
    else
      return detail::make_mul(node<one_hot_op<B, C>, L>{},
                              detail::reshape_to<shape<B, 1>>(detail::as_shape<shape<B>>(g)));
  }
};

// d take_rows(E, ids) = the adjoint's rows added into the rows of E they
// came from; ids get no gradient.
template <std::size_t V, std::size_t D, class Ids>
struct vjp_rule<take_rows_op<V, D, Ids>> {
  template <std::size_t I, class Table, class L, class G>
  static constexpr auto partial(node<take_rows_op<V, D, Ids>, Table, L> self, G g) {
    if constexpr (I == 1 || is_zero<G>)
      return zero_adjoint{};
    else
      return node<scatter_rows_op<V, D, Ids>, decltype(detail::as_shape<shape_of<decltype(self)>>(g)), L>{};
  }
};

// d dropout(a) = dropout(da) with the same mask (recomputed from its hash).
template <std::uint64_t Salt, structural_double P>
struct vjp_rule<dropout_op<Salt, P>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<dropout_op<Salt, P>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return node<dropout_op<Salt, P>, decltype(detail::as_shape<shape_of<A>>(g))>{};
  }
};

// d slice(a) = the adjoint padded with zeros back to a's shape
template <class In, std::size_t Axis, std::size_t Begin, std::size_t End>
struct vjp_rule<slice_op<In, Axis, Begin, End>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<slice_op<In, Axis, Begin, End>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return detail::pad_to<In, Axis, Begin>(detail::as_shape<typename with_dim<In, Axis, End - Begin>::type>(g));
  }
};

// d pad(a) = the adjoint's window where a was placed
template <class Full, std::size_t Axis, std::size_t Begin>
struct vjp_rule<pad_op<Full, Axis, Begin>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<pad_op<Full, Axis, Begin>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return detail::slice_of<Axis, Begin, Begin + shape_of<A>::dims[Axis]>(detail::as_shape<Full>(g));
  }
};

// d concat(a, b) = the adjoint's two parts
template <class SA, class SB, std::size_t Axis>
struct vjp_rule<concat_op<SA, SB, Axis>> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<concat_op<SA, SB, Axis>, A, B> self, G g) {
    constexpr std::size_t na = SA::dims[Axis], nb = SB::dims[Axis];
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else if constexpr (I == 0)
      return detail::slice_of<Axis, 0, na>(detail::as_shape<shape_of<decltype(self)>>(g));
    else
      return detail::slice_of<Axis, na, na + nb>(detail::as_shape<shape_of<decltype(self)>>(g));
  }
};

// one_hot and equal are piecewise constant in their operands.
template <std::size_t B, std::size_t C>
struct vjp_rule<one_hot_op<B, C>> {
  template <std::size_t I, class L, class G>
  static constexpr auto partial(node<one_hot_op<B, C>, L>, G) {
    return zero_adjoint{};
  }
};
template <>
struct vjp_rule<equal_op> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<equal_op, A, B>, G) {
    return zero_adjoint{};
  }
};

// A contribution C sent to an operand of shape Target: summed over the
// dimensions Target broadcasts along, when C is larger (da of a + b with a
// [B, N] and b [N] is the column sums of g for b). Smaller contributions stay
// as they are: they broadcast.
template <class S, class T, class Seq = std::make_index_sequence<(S::rank < T::rank ? S::rank : T::rank)>>
struct unbroadcast_shape;
template <class S, class T, std::size_t... I>
struct unbroadcast_shape<S, T, std::index_sequence<I...>> {
  static constexpr std::size_t rank = sizeof...(I);
  static constexpr std::size_t dim(std::size_t i) {  // i from the left of the result
    const std::size_t s = S::dims[S::rank - rank + i], t = T::dims[T::rank - rank + i];
    return s == t ? s : 1;
  }
  using type = shape<dim(I)...>;
};

template <class Target, class C>
constexpr auto fit_adjoint(C c) {
  using S = shape_of<C>;
  if constexpr (std::is_same_v<broadcast_shape<S, Target>, Target>)
    return c;
  else
    return detail::make_node<reduce_op<sum_reduction, S, typename unbroadcast_shape<S, Target>::type>>(c);
}

}  // namespace tapeless::detail
