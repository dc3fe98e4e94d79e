#pragma once
// Reshape (same elements, row-major order, another shape) and broadcast_to
// (an elementwise view of a smaller operand at a larger shape, NumPy rules).
//
//   tl::reshape<64, 28, 28>(X)       // X [64, 784]
//
// A reshape that only inserts or removes dimensions of size 1 costs nothing
// in a compiled program; any other reads its operand from memory, in place.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

template <class From, class To>
struct reshape_op {
  static constexpr std::string_view name = "reshape";
  using input_shape = From;
  template <class A>
  struct result_shape {
    using type = To;
  };
};

// Elementwise: the operand, read at a larger shape it broadcasts to.
template <class To>
struct broadcast_to_op : elementwise_operation {
  static constexpr std::string_view name = "broadcast";
  template <class A>
  struct result_shape {
    using type = To;
  };
  static constexpr auto apply(auto a) { return a; }
};

namespace detail {

template <class From, class To>
struct reshape_size_mismatch {
  static_assert(always_false<From, To>,
                "tapeless::reshape: the new shape must hold as many elements as the old one; "
                "see both shapes in reshape_size_mismatch<from, to> above");
  static constexpr bool ok = false;
};

template <class E>
inline constexpr bool is_reshape = false;
template <class From, class To, class A>
inline constexpr bool is_reshape<node<reshape_op<From, To>, A>> = true;

template <class E>
inline constexpr bool is_broadcast = false;
template <class To, class A>
inline constexpr bool is_broadcast<node<broadcast_to_op<To>, A>> = true;

// a at shape To, where a's shape has To::size elements; reshapes do not nest.
template <class To, class A>
constexpr auto reshape_to(const A& a) {
  if constexpr (std::is_same_v<shape_of<A>, To>)
    return a;
  else if constexpr (is_reshape<A>)
    return detail::reshape_to<To>(tapeless::operand_at<0>(a));
  else
    return node<reshape_op<shape_of<A>, To>, A>{a};
}

// a read at shape To (a's shape broadcasts to To); a itself when it has it.
template <class To, class A>
constexpr auto broadcast_to(const A& a) {
  if constexpr (std::is_same_v<shape_of<A>, To>)
    return a;
  else if constexpr (is_broadcast<A>)
    return detail::broadcast_to<To>(tapeless::operand_at<0>(a));
  else
    return node<broadcast_to_op<To>, A>{a};
}

}  // namespace detail

template <std::size_t... Dims, expression A>
constexpr auto reshape(const A& a) {
  using From = shape_of<A>;
  using To = shape<Dims...>;
  if constexpr (From::size == To::size)
    return detail::reshape_to<To>(a);
  else
    return detail::reshape_size_mismatch<From, To>::ok;
}

}  // namespace tapeless
