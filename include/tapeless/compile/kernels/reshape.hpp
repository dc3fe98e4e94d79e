#pragma once
// reshape: no kernel; the same buffer read in another shape.

#include <cstddef>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/reshape.hpp>

namespace tapeless::detail {

struct reshape_family : kernel_family_defaults {
  // Row-major data has the same layout in every shape of its size.
  static constexpr bool view = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return view_pointer<Sched, J>(c);
  }
};

template <class From, class To>
struct op_family<reshape_op<From, To>> {
  using type = reshape_family;
};

}  // namespace tapeless::detail
