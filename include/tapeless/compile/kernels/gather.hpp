#pragma once
// gather_op<B, C>: out(b) = z(b, labels(b)), one element per row picked by
// integer class labels.

#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/expr/gather.hpp>

namespace tapeless::detail {

struct gather_family : kernel_family_defaults {
  // It reads its operands from memory at positions only the labels tell.
  static constexpr bool writes_output_in_place = true;

  // Class ids outside [0, C) are found before the step runs (run_error.hpp).
  template <class Sched, std::size_t J, class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<J>;
    using operands = typename operands_of<N>::type::template apply<std::tuple>;
    using Z = std::tuple_element_t<0, operands>;
    using L = std::tuple_element_t<1, operands>;
    return check_class_ids(Sched::template pointer<operand_index<Sched, J, 1>>(c), shape_of<Z>::dims[0],
                           shape_of<Z>::dims[1], name_of_labels<L>());
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using operands = typename operands_of<N>::type::template apply<std::tuple>;
    using Z = std::tuple_element_t<0, operands>;
    constexpr std::size_t rows = shape_of<Z>::dims[0], classes = shape_of<Z>::dims[1];
    const auto* z = Sched::template pointer<operand_index<Sched, I, 0>>(c);
    const auto* labels = Sched::template pointer<operand_index<Sched, I, 1>>(c);
    auto* out = Sched::template destination<I>(c);
    for (std::size_t b = 0; b < rows; ++b) {
      // Labels were checked before the step's first kernel (program.hpp);
      // the test keeps a bad one from reading outside z all the same.
      const auto label = static_cast<std::size_t>(labels[b]);
      out[b] = label < classes ? z[b * classes + label] : 0;
    }
  }
};

template <std::size_t B, std::size_t C>
struct op_family<gather_op<B, C>> {
  using type = gather_family;
};

}  // namespace tapeless::detail
