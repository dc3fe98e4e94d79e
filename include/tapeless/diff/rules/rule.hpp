#pragma once
// One derivative rule per operation: vjp_rule<Op>::partial<I>(node, adjoint)
// gives the adjoint contribution node sends to its operand I. Rules build
// their results with the simplifier's smart constructors.

#include <cstddef>

#include <tapeless/diff/simplify/rules.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless::detail {

template <class Op>
struct vjp_rule {
  static_assert(always_false<Op>,
                "tapeless: this operation has no derivative rule (diff/rules/); add a "
                "vjp_rule specialisation for it");
};

}  // namespace tapeless::detail
