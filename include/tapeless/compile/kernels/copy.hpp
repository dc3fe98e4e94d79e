#pragma once
// slice, pad and concat: a loop over the dimensions before the axis, copying
// whole runs (the axis and everything after it are contiguous).

#include <algorithm>
#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/slice.hpp>

namespace tapeless::detail {

struct copy_family : kernel_family_defaults {
  // Runs of memory moved as they are: nothing to compute per element.
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class N, class Ctx>
  static void run(const Ctx& c) noexcept {
    using Op = typename N::operation;
    using S = shape_of<N>;
    using split = axis_split<S, Op::axis>;
    using operands = typename operands_of<N>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    auto* out = Sched::template destination<N>(c);
    const auto* a = Sched::template pointer<A>(c);
    constexpr std::size_t out_run = S::dims[Op::axis] * split::inner;
    constexpr std::size_t a_run = shape_of<A>::dims[Op::axis] * split::inner;
    if constexpr (requires { typename Op::input_shape; }) {  // slice: a's rows are longer
      for (std::size_t o = 0; o < split::outer; ++o)
        std::copy_n(a + o * a_run + Op::begin * split::inner, out_run, out + o * out_run);
    } else if constexpr (std::tuple_size_v<operands> == 1) {  // pad: zeros around a
      for (std::size_t o = 0; o < split::outer; ++o) {
        auto* row = out + o * out_run;
        std::fill_n(row, out_run, 0);
        std::copy_n(a + o * a_run, a_run, row + Op::begin * split::inner);
      }
    } else {  // concat: a's run, then b's
      using B = std::tuple_element_t<1, operands>;
      const auto* b = Sched::template pointer<B>(c);
      constexpr std::size_t b_run = shape_of<B>::dims[Op::axis] * split::inner;
      for (std::size_t o = 0; o < split::outer; ++o) {
        std::copy_n(a + o * a_run, a_run, out + o * out_run);
        std::copy_n(b + o * b_run, b_run, out + o * out_run + a_run);
      }
    }
  }
};

template <class In, std::size_t Axis, std::size_t Begin, std::size_t End>
struct op_family<slice_op<In, Axis, Begin, End>> {
  using type = copy_family;
};
template <class Full, std::size_t Axis, std::size_t Begin>
struct op_family<pad_op<Full, Axis, Begin>> {
  using type = copy_family;
};
template <class SA, class SB, std::size_t Axis>
struct op_family<concat_op<SA, SB, Axis>> {
  using type = copy_family;
};

}  // namespace tapeless::detail
