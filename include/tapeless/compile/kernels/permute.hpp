#pragma once
// permute_op: a copy into the new order. Rows of the result's last axis are
// read at the stride that axis has in the operand (runs of memory when it is
// the operand's last axis too); the position in the leading axes advances as
// an odometer, so no division runs per element.

#include <array>
#include <cstddef>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/permute.hpp>

namespace tapeless::detail {

struct permute_family : kernel_family_defaults {
  // It reads its operand out of order and writes a whole buffer.
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    using In = typename Op::input_shape;
    using Out = shape_of<N>;
    using A = typename front<typename operands_of<N>::type>::type;
    static_assert(!family_of<A>::in_register, "tapeless::compile: a permute of a constant");
    constexpr std::size_t rank = In::rank;
    // The operand's stride along each of the result's axes.
    constexpr auto stride = [] {
      std::array<std::size_t, rank> in_stride{}, s{};
      std::size_t step = 1;
      for (std::size_t i = rank; i-- > 0;) {
        in_stride[i] = step;
        step *= In::dims[i];
      }
      for (std::size_t i = 0; i < rank; ++i) s[i] = in_stride[Op::axes[i]];
      return s;
    }();
    constexpr std::size_t columns = Out::dims[rank - 1], rows = Out::size / columns;
    constexpr std::size_t column_stride = stride[rank - 1];
    const auto* a = Sched::template pointer<operand_index<Sched, I, 0>>(c);
    auto* out = Sched::template destination<I>(c);
    std::array<std::size_t, rank> at{};  // the row's index in the leading axes
    std::size_t from = 0;                // its offset in the operand
    for (std::size_t row = 0; row < rows; ++row) {
      auto* to = out + row * columns;
      if constexpr (column_stride == 1)
        for (std::size_t j = 0; j < columns; ++j) to[j] = a[from + j];
      else
        for (std::size_t j = 0; j < columns; ++j) to[j] = a[from + j * column_stride];
      for (std::size_t axis = rank - 1; axis-- > 0;) {
        from += stride[axis];
        if (++at[axis] < Out::dims[axis]) break;
        from -= at[axis] * stride[axis];
        at[axis] = 0;
      }
    }
  }
};

template <class In, std::size_t... Axes>
struct op_family<permute_op<In, Axes...>> {
  using type = permute_family;
};

}  // namespace tapeless::detail
