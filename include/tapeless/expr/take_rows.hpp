#pragma once
// Rows of a table picked by integer ids, and its derivative, the rows'
// adjoints added back into the rows they came from.
//
//   tl::take_rows(E, ids)     // E [V, D], ids integer [N] or [N, T] -> [N, D] or [N, T, D]:
//                             //   out(i, :) = E(ids(i), :)
//
// A compiled program copies the rows (never a one-hot product); an id
// outside [0, V) is found before a step runs (program.last_error()).

#include <concepts>
#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// Rows of a [V, D] table at ids of shape Ids: Ids with D appended.
template <std::size_t V, std::size_t D, class Ids>
struct take_rows_op {
  static constexpr std::string_view name = "take_rows";
  static constexpr std::size_t rows = V, width = D, count = Ids::size;
  template <class Table, class I>
  struct result_shape;
  template <class Table, std::size_t... Dims>
  struct result_shape<Table, shape<Dims...>> {
    using type = shape<Dims..., D>;
  };
};

// The derivative of take_rows for the table: a zero [V, D] with row g(i, :)
// added at row ids(i), for every i (ids may repeat).
template <std::size_t V, std::size_t D, class Ids>
struct scatter_rows_op {
  static constexpr std::string_view name = "scatter_rows";
  static constexpr std::size_t rows = V, width = D, count = Ids::size;
  template <class G, class I>
  struct result_shape {
    using type = shape<V, D>;
  };
};

namespace detail {

template <class Table, class Ids>
struct take_rows_needs_a_v_d_table_and_integer_ids {
  static_assert(always_false<Table, Ids>,
                "tapeless::take_rows(table, ids) / nn::embedding: expected a table [V, D] and an integer "
                "input of ids [N] or [N, T]; see the table's shape and the ids above");
  static constexpr bool ok = false;
};

template <class Table, class Ids>
constexpr bool check_take_rows() {
  using ST = shape_of<Table>;
  using SI = shape_of<Ids>;
  if constexpr (ST::rank == 2 && (SI::rank == 1 || SI::rank == 2) &&
                std::integral<typename element_of_leaf<Ids>::type>)
    return true;
  else
    return take_rows_needs_a_v_d_table_and_integer_ids<ST, Ids>::ok;
}

}  // namespace detail

template <expression Table, expression Ids>
constexpr auto take_rows(const Table& table, const Ids& ids) {
  if constexpr (detail::check_take_rows<Table, Ids>()) {
    using ST = shape_of<Table>;
    return node<take_rows_op<ST::dims[0], ST::dims[1], shape_of<Ids>>, Table, Ids>{table, ids};
  }
}

}  // namespace tapeless
