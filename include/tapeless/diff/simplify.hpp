#pragma once
// Simplification of a labelled structure: every node rebuilt, bottom up,
// through its smart constructor (diff/simplify/rules.hpp).

#include <tapeless/diff/simplify/rules.hpp>
#include <tapeless/expr/label.hpp>

namespace tapeless {

namespace detail {

template <class S>
struct simplified {
  using type = S;
};
template <class Op, class... Operands>
struct simplified<node<Op, Operands...>> {
  using type = decltype(detail::make_node<Op>(typename simplified<Operands>::type{}...));
};

}  // namespace detail

template <class S>
using simplified_t = typename detail::simplified<S>::type;

// The simplified form of an expression, as an ordinary expression.
template <expression E>
constexpr auto simplify(const E& e) {
  const auto labelled_e = tapeless::label(e);
  return tapeless::unlabel<simplified_t<typename decltype(labelled_e)::structure>>(labelled_e.constants);
}

}  // namespace tapeless
