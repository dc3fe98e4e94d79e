#pragma once
// detach: no kernel where its operand has a buffer: the same values, read
// where they lie (a view, as a reshape is: reshape's family serves). Of a
// number, which has no buffer, an elementwise identity computed in its
// consumer's loop.

#include <type_traits>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/reshape.hpp>
#include <tapeless/expr/detach.hpp>

namespace tapeless::detail {

template <class A>
struct kernel_family_of<node<detach_op, A>> {
  using type = std::conditional_t<family_of<A>::in_register, elementwise_family, reshape_family>;
};

}  // namespace tapeless::detail
