#pragma once
// where(cond, a, b): its derivative and its rewrites. As torch.where's
// gradient, the adjoint goes to the branch chosen, elementwise:
//   a gets where(cond, g, 0), b gets where(cond, 0, g), cond gets nothing.

#include <type_traits>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/expr/where.hpp>

namespace tapeless::detail {

template <class C, class A, class B>
using where_shape = shape_of<node<where_op, C, A, B>>;

// where(c, a, b)
template <class C, class A, class B>
constexpr auto where_rule(C, A, B, priority<0>) {
  return node<where_op, C, A, B>{};
}
// where(c, a, a) -> a   (when a alone has the shape of the result)
template <class C, class A>
  requires std::is_same_v<shape_of<A>, where_shape<C, A, A>>
constexpr auto where_rule(C, A, A, priority<1>) {
  return A{};
}
// where(k, a, b) -> a if k != 0, else b   (k exact; the branch has the shape of the result)
template <rational K, class A, class B>
  requires std::is_same_v<shape_of<std::conditional_t<K.num != 0, A, B>>,
                          where_shape<exact<K>, A, B>>
constexpr auto where_rule(exact<K>, A, B, priority<2>) {
  if constexpr (K.num != 0)
    return A{};
  else
    return B{};
}

template <class C, class A, class B>
constexpr auto make_where(C c, A a, B b) {
  return where_rule(c, a, b, highest_priority);
}

template <>
struct rewrite<where_op> {
  template <class C, class A, class B>
  static constexpr auto make(C c, A a, B b) {
    return detail::make_where(c, a, b);
  }
};

template <>
struct vjp_rule<where_op> {
  template <std::size_t I, class C, class A, class B, class G>
  static constexpr auto partial(node<where_op, C, A, B>, G g) {
    constexpr exact<rational{0, 1}> zero{};
    if constexpr (I == 0 || is_zero<G>)
      return zero;
    else if constexpr (I == 1)
      return detail::make_where(C{}, g, zero);
    else
      return detail::make_where(C{}, zero, g);
  }
};

}  // namespace tapeless::detail
