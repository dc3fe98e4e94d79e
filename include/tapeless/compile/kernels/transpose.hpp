#pragma once
// transpose: read in place by GEMMs (which take either operand transposed),
// else copied by a kernel of its own.

#include <cstddef>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/matmul.hpp>

namespace tapeless::detail {

struct transpose_family : kernel_family_defaults {
  // A GEMM reads a transposed operand where it lies: no copy, no buffer.
  static constexpr bool view_when_read_transposed = true;
  // As a copy, it writes a whole buffer of its shape.
  static constexpr bool writes_output_in_place = true;

  // As a view: its operand's buffer.
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return view_pointer<Sched, J>(c);
  }

  // As a copy: out(j, i) = a(i, j).
  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using A = typename front<typename operands_of<N>::type>::type;
    constexpr std::size_t rows = shape_of<A>::dims[0], columns = shape_of<A>::dims[1];
    const auto* a = Sched::template pointer<operand_index<Sched, I, 0>>(c);
    auto* out = Sched::template destination<I>(c);
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t j = 0; j < columns; ++j) out[j * rows + i] = a[i * columns + j];
  }
};

template <std::size_t R, std::size_t C>
struct op_family<transpose_op<R, C>> {
  using type = transpose_family;
};

}  // namespace tapeless::detail
