#pragma once
// Slicing along one axis, concatenation along one axis, and the zero padding
// that is slicing's derivative.
//
//   tl::slice<1, 2, 5>(A)       // A [B, 8] -> [B, 3]: columns 2, 3, 4
//   tl::concat<1>(A, C)         // [B, 8] and [B, 4] -> [B, 12]
//
// In a compiled program each is a copy kernel over whole runs of memory.

#include <cstddef>
#include <string_view>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/reduce.hpp>

namespace tapeless {

namespace detail {

// S with dimension Axis replaced by N.
template <class S, std::size_t Axis, std::size_t N, class Seq = std::make_index_sequence<S::rank>>
struct with_dim;
template <class S, std::size_t Axis, std::size_t N, std::size_t... I>
struct with_dim<S, Axis, N, std::index_sequence<I...>> {
  using type = shape<(I == Axis ? N : S::dims[I])...>;
};

// Elements before, along and after Axis: a shape seen as [outer, Axis, inner].
template <class S, std::size_t Axis>
struct axis_split {
  static constexpr std::size_t outer = [] {
    std::size_t n = 1;
    for (std::size_t i = 0; i < Axis; ++i) n *= S::dims[i];
    return n;
  }();
  static constexpr std::size_t inner = [] {
    std::size_t n = 1;
    for (std::size_t i = Axis + 1; i < S::rank; ++i) n *= S::dims[i];
    return n;
  }();
};

}  // namespace detail

// Elements [Begin, End) of an In-shaped operand along Axis.
template <class In, std::size_t Axis, std::size_t Begin, std::size_t End>
struct slice_op {
  static constexpr std::string_view name = "slice";
  using input_shape = In;
  static constexpr std::size_t axis = Axis, begin = Begin, end = End;
  template <class A>
  struct result_shape {
    using type = typename detail::with_dim<In, Axis, End - Begin>::type;
  };
};

// The operand placed at [Begin, Begin + n) along Axis of a zero Full-shaped tensor.
template <class Full, std::size_t Axis, std::size_t Begin>
struct pad_op {
  static constexpr std::string_view name = "pad";
  static constexpr std::size_t axis = Axis, begin = Begin;
  template <class A>
  struct result_shape {
    using type = Full;
  };
};

// A then B along Axis.
template <class SA, class SB, std::size_t Axis>
struct concat_op {
  static constexpr std::string_view name = "concat";
  static constexpr std::size_t axis = Axis;
  template <class A, class B>
  struct result_shape {
    using type = typename detail::with_dim<SA, Axis, SA::dims[Axis] + SB::dims[Axis]>::type;
  };
};

namespace detail {

template <class S, std::size_t Axis, std::size_t Begin, std::size_t End>
struct slice_out_of_range {
  static_assert(always_false<S>,
                "tapeless::slice<axis, begin, end>: need begin < end <= the axis's length; the "
                "operand's shape is above");
  static constexpr bool ok = false;
};

template <class A, class B>
struct concat_shape_mismatch {
  static_assert(always_false<A, B>,
                "tapeless::concat<axis>: the operands must have the same rank and the same "
                "dimensions except along the axis; see both shapes above");
  static constexpr bool ok = false;
};

template <class A, class B, std::size_t Axis>
constexpr bool concatenable() {
  if constexpr (A::rank != B::rank || Axis >= A::rank)
    return false;
  else {
    for (std::size_t i = 0; i < A::rank; ++i)
      if (i != Axis && A::dims[i] != B::dims[i]) return false;
    return true;
  }
}

template <class Full, std::size_t Axis, std::size_t Begin, class A>
constexpr auto pad_to(const A& a) {
  return node<pad_op<Full, Axis, Begin>, A>{a};
}

template <std::size_t Axis, std::size_t Begin, std::size_t End, class A>
constexpr auto slice_of(const A& a) {
  if constexpr (Begin == 0 && End == shape_of<A>::dims[Axis])
    return a;
  else
    return node<slice_op<shape_of<A>, Axis, Begin, End>, A>{a};
}

}  // namespace detail

template <int Axis, std::size_t Begin, std::size_t End, expression A>
constexpr auto slice(const A& a) {
  using S = shape_of<A>;
  constexpr std::size_t axis = detail::normalized_axis<Axis, S>();
  if constexpr (!(Begin < End && End <= S::dims[axis]))
    return detail::slice_out_of_range<S, axis, Begin, End>::ok;
  else
    return detail::slice_of<axis, Begin, End>(a);
}

template <int Axis, expression A, expression B>
constexpr auto concat(const A& a, const B& b) {
  using SA = shape_of<A>;
  using SB = shape_of<B>;
  constexpr std::size_t axis = detail::normalized_axis<Axis, SA>();
  if constexpr (!detail::concatenable<SA, SB, axis>())
    return detail::concat_shape_mismatch<SA, SB>::ok;
  else
    return node<concat_op<SA, SB, axis>, A, B>{a, b};
}

}  // namespace tapeless
