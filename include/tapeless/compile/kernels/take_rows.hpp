#pragma once
// take_rows_op: out(i, :) = table(ids(i), :), a copy per row; scatter_rows_op,
// its derivative: zero, then g(i, :) added into row ids(i) for every i. Ids
// outside [0, V) are found before the step runs (run_error.hpp).

#include <algorithm>
#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/expr/take_rows.hpp>

namespace tapeless::detail {

// The two operands of take_rows and scatter_rows: rows (the table, or the
// adjoint) and their integer ids.
template <class N>
struct rows_and_ids {
  using operands = typename operands_of<N>::type::template apply<std::tuple>;
  using rows = std::tuple_element_t<0, operands>;
  using ids = std::tuple_element_t<1, operands>;
};

struct take_rows_family : kernel_family_defaults {
  // It reads its table at rows only the ids tell, and writes a whole buffer.
  static constexpr bool writes_output_in_place = true;

  template <class Sched, std::size_t J, class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<J>;
    using Op = typename N::operation;
    using Ids = typename rows_and_ids<N>::ids;
    return check_class_ids(Sched::template pointer<Sched::template index<Ids>>(c), Op::count, Op::rows,
                           name_of_labels<Ids>());
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    const auto* table = Sched::template pointer<Sched::template index<typename rows_and_ids<N>::rows>>(c);
    const auto* ids = Sched::template pointer<Sched::template index<typename rows_and_ids<N>::ids>>(c);
    auto* out = Sched::template destination<I>(c);
    for (std::size_t i = 0; i < Op::count; ++i) {
      // Checked before the step; the test keeps a bad id from reading outside the table all the same.
      const auto id = static_cast<std::size_t>(ids[i]);
      if (id < Op::rows)
        std::copy_n(table + id * Op::width, Op::width, out + i * Op::width);
      else
        std::fill_n(out + i * Op::width, Op::width, 0);
    }
  }
};

struct scatter_rows_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    using G = typename rows_and_ids<N>::rows;
    static_assert(!family_of<G>::in_register, "tapeless::compile: scatter_rows of a constant adjoint");
    const auto* g = Sched::template pointer<Sched::template index<G>>(c);
    const auto* ids = Sched::template pointer<Sched::template index<typename rows_and_ids<N>::ids>>(c);
    auto* out = Sched::template destination<I>(c);
    std::fill_n(out, Op::rows * Op::width, 0);
    for (std::size_t i = 0; i < Op::count; ++i) {
      const auto id = static_cast<std::size_t>(ids[i]);
      if (id >= Op::rows) continue;
      auto* row = out + id * Op::width;
      const auto* from = g + i * Op::width;
      for (std::size_t j = 0; j < Op::width; ++j) row[j] += from[j];
    }
  }
};

template <std::size_t V, std::size_t D, class Ids>
struct op_family<take_rows_op<V, D, Ids>> {
  using type = take_rows_family;
};
template <std::size_t V, std::size_t D, class Ids>
struct op_family<scatter_rows_op<V, D, Ids>> {
  using type = scatter_rows_family;
};

}  // namespace tapeless::detail
