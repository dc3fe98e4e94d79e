#pragma once
// Reductions: sum, mean, max and logsumexp over every element or over one
// axis, and softmax / log_softmax built on logsumexp.
//
//   tl::sum(e)              // rank 0
//   tl::sum<0>(e)           // [B, N] -> [N]   (axes count from 0; -1 is the last)
//   tl::logsumexp<-1>(z)    // [B, C] -> [B], computed stably (max subtracted)
//   tl::softmax<-1>(z)      // exp(z - logsumexp), same shape as z
//
// One node kind does them all: reduce_op<Kind, In, Out> combines the elements
// of an In-shaped operand that map to the same element of Out, where Out
// broadcasts to In (the reduced dimensions are 1 or absent). An axis
// reduction that drops a middle dimension is that node followed by a reshape
// (free). The op carries In so that its meaning never depends on what the
// simplifier makes of the operand.

#include <array>
#include <cmath>
#include <cstddef>
#include <string_view>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/rational.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/reshape.hpp>

namespace tapeless {

struct sum_reduction {
  static constexpr std::string_view name = "sum";
};
struct max_reduction {
  static constexpr std::string_view name = "max";
};
struct logsumexp_reduction {
  static constexpr std::string_view name = "logsumexp";
};

template <class Kind, class In, class Out>
struct reduce_op {
  static constexpr std::string_view name = Kind::name;
  using kind = Kind;
  using input_shape = In;
  template <class A>
  struct result_shape {
    using type = Out;
  };
};

namespace detail {

template <int Axis, class S>
struct axis_out_of_range {
  static_assert(always_false<S>,
                "tapeless: reduction axis out of range for the operand's shape (axes count "
                "from 0, negative ones from the end); see axis_out_of_range<axis, shape> above");
  static constexpr bool ok = false;
};

template <int Axis, class S>
constexpr std::size_t normalized_axis() {
  constexpr int rank = static_cast<int>(S::rank);
  if constexpr (Axis >= rank || Axis < -rank)
    return axis_out_of_range<Axis, S>::ok;
  else
    return static_cast<std::size_t>(Axis < 0 ? Axis + rank : Axis);
}

// S with dimension Axis set to 1 (kept) or removed (dropped).
template <class S, std::size_t Axis, bool Keep, class Seq = std::make_index_sequence<S::rank - (Keep ? 0 : 1)>>
struct reduced_shape;
template <class S, std::size_t Axis, bool Keep, std::size_t... I>
struct reduced_shape<S, Axis, Keep, std::index_sequence<I...>> {
  static constexpr std::size_t dim(std::size_t i) {
    if constexpr (Keep)
      return i == Axis ? 1 : S::dims[i];
    else
      return S::dims[i < Axis ? i : i + 1];
  }
  using type = shape<dim(I)...>;
};

template <class Kind, class Out, class A>
constexpr auto reduce_to(const A& a) {
  return node<reduce_op<Kind, shape_of<A>, Out>, A>{a};
}

// Reduces one axis; Keep leaves it as a dimension of size 1.
template <class Kind, int Axis, bool Keep, class A>
constexpr auto reduce_axis(const A& a) {
  using S = shape_of<A>;
  constexpr std::size_t axis = normalized_axis<Axis, S>();
  using kept = typename reduced_shape<S, axis, true>::type;
  if constexpr (Keep)
    return detail::reduce_to<Kind, kept>(a);
  else if constexpr (axis == 0)  // the remaining dimensions broadcast to S as they are
    return detail::reduce_to<Kind, typename reduced_shape<S, 0, false>::type>(a);
  else
    return detail::reshape_to<typename reduced_shape<S, axis, false>::type>(detail::reduce_to<Kind, kept>(a));
}

template <class Kind, class A>
constexpr auto reduce_all(const A& a) {
  if constexpr (shape_of<A>::rank == 0)
    return a;
  else
    return detail::reduce_to<Kind, shape<>>(a);
}

// 1/n as an exact constant.
template <std::size_t N>
using reciprocal_of = exact_constant<rational{1, static_cast<long long>(N)}>;

}  // namespace detail

template <expression A>
constexpr auto sum(const A& a) {
  return detail::reduce_all<sum_reduction>(a);
}
template <int Axis, expression A>
constexpr auto sum(const A& a) {
  return detail::reduce_axis<sum_reduction, Axis, false>(a);
}

template <expression A>
constexpr auto mean(const A& a) {
  return detail::reciprocal_of<shape_of<A>::size>{} * sum(a);
}
template <int Axis, expression A>
constexpr auto mean(const A& a) {
  constexpr std::size_t n = shape_of<A>::dims[detail::normalized_axis<Axis, shape_of<A>>()];
  return detail::reciprocal_of<n>{} * sum<Axis>(a);
}

// The largest element (unary; max(a, b) is the elementwise maximum).
template <expression A>
constexpr auto max(const A& a) {
  return detail::reduce_all<max_reduction>(a);
}
template <int Axis, expression A>
constexpr auto max(const A& a) {
  return detail::reduce_axis<max_reduction, Axis, false>(a);
}

// log(sum(exp(a))), computed as m + log(sum(exp(a - m))) with m the maximum.
template <expression A>
constexpr auto logsumexp(const A& a) {
  return detail::reduce_all<logsumexp_reduction>(a);
}
template <int Axis, expression A>
constexpr auto logsumexp(const A& a) {
  return detail::reduce_axis<logsumexp_reduction, Axis, false>(a);
}

// softmax(a, l) = exp(a - l) where l is logsumexp(a), the reduction node
// itself: the gradient of logsumexp, and tl::softmax. In a compiled program
// it is not computed again: the reduction's kernel, which computes exp(a - m)
// for its sums anyway, keeps those values divided by the sums when some node
// reads them, and this node reads them where they lie
// (compile/kernels/reduce.hpp). Its value anywhere else is exp(a - l).
struct softmax_of_logsumexp_op : elementwise_operation {
  static constexpr std::string_view name = "softmax_of_logsumexp";
  static constexpr auto apply(auto a, auto l) {
    using std::exp;
    return exp(a - l);
  }
};

namespace detail {
// exp(a - l) for l = logsumexp(a) as a node of A and L.
template <class A, class L>
constexpr auto softmax_of_logsumexp(const A& a, const L& l) {
  return node<softmax_of_logsumexp_op, A, L>{a, l};
}
}  // namespace detail

// a - logsumexp(a) and exp(a - logsumexp(a)) along Axis (the last by default).
template <int Axis = -1, expression A>
constexpr auto log_softmax(const A& a) {
  return a - detail::reduce_axis<logsumexp_reduction, Axis, true>(a);
}
template <int Axis = -1, expression A>
constexpr auto softmax(const A& a) {
  return detail::softmax_of_logsumexp(a, detail::reduce_axis<logsumexp_reduction, Axis, true>(a));
}

}  // namespace tapeless
