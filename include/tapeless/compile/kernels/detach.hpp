#pragma once
// detach: no kernel where its operand has a buffer: the same values, read
// where they lie (a view, as a reshape is). Of a number, which has no buffer,
// an elementwise identity computed in its consumer's loop.

#include <cstddef>
#include <type_traits>

#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/detach.hpp>

namespace tapeless::detail {

struct detach_family : kernel_family_defaults {
  static constexpr bool view = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return view_pointer<Sched, J>(c);
  }
};

template <class A>
struct kernel_family_of<node<detach_op, A>> {
  using type = std::conditional_t<family_of<A>::in_register, elementwise_family, detach_family>;
};

}  // namespace tapeless::detail
