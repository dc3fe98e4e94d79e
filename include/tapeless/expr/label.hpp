#pragma once
// Labelling run-time constants. `x * 0.5` and `x * 0.7` have one type, so type
// identity cannot tell them apart. Before any graph work, each run-time
// constant is moved into a table and replaced by an empty constant_slot<i, T>
// whose type names its slot: then equal types do mean equal values, and the
// whole structure is an empty type. Unlabelling puts the values back.
//
// Sharing is therefore by type for everything built from symbols and exact
// constants (tl::c<1, 2>, 0.5_c), and by occurrence for subexpressions holding
// plain numbers: write exact constants where a subexpression is reused.

#include <array>
#include <cstddef>

#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

namespace detail {

template <std::size_t Next, class E, bool Stateless = is_stateless<E>>
struct labelling {
  using type = E;
  static constexpr std::size_t count = 0;
  template <class Table>
  static constexpr void fill(Table&, const E&) {}
};

template <std::size_t Next, class T>
struct labelling<Next, constant<T>, false> {
  using type = constant_slot<Next, T>;
  static constexpr std::size_t count = 1;
  template <class Table>
  static constexpr void fill(Table& table, const constant<T>& c) {
    table[Next] = static_cast<double>(c.value);
  }
};

template <std::size_t Next, class Op, class A>
struct labelling<Next, node<Op, A>, false> {
  using first = labelling<Next, A>;
  using type = node<Op, typename first::type>;
  static constexpr std::size_t count = first::count;
  template <class Table>
  static constexpr void fill(Table& table, const node<Op, A>& n) {
    first::fill(table, operand_at<0>(n));
  }
};

template <std::size_t Next, class Op, class A, class B>
struct labelling<Next, node<Op, A, B>, false> {
  using first = labelling<Next, A>;
  using second = labelling<Next + first::count, B>;
  using type = node<Op, typename first::type, typename second::type>;
  static constexpr std::size_t count = first::count + second::count;
  template <class Table>
  static constexpr void fill(Table& table, const node<Op, A, B>& n) {
    first::fill(table, operand_at<0>(n));
    second::fill(table, operand_at<1>(n));
  }
};

template <class S, bool HasSlots = has_slots<S>>
struct unlabelling {
  using type = S;
  template <class Table>
  static constexpr S make(const Table&) {
    return S{};
  }
};

template <std::size_t Slot, class T>
struct unlabelling<constant_slot<Slot, T>, true> {
  using type = constant<T>;
  template <class Table>
  static constexpr type make(const Table& table) {
    return type{static_cast<T>(table[Slot])};
  }
};

template <class Op, class... Operands>
struct unlabelling<node<Op, Operands...>, true> {
  using type = node<Op, typename unlabelling<Operands>::type...>;
  template <class Table>
  static constexpr type make(const Table& table) {
    return type{unlabelling<Operands>::make(table)...};
  }
};

}  // namespace detail

// An expression's structure as an empty type, and the values of its run-time
// constants, slot by slot.
template <class Structure, std::size_t Count>
struct labelled {
  using structure = Structure;
  std::array<double, Count> constants{};
};

template <expression E>
constexpr auto label(const E& e) {
  using labeller = detail::labelling<0, E>;
  labelled<typename labeller::type, labeller::count> result{};
  // Skipping the call when there is nothing to fill matters: g++ 12 spends
  // time exponential in the depth of a deeply shared E on this call.
  if constexpr (labeller::count > 0) labeller::fill(result.constants, e);
  return result;
}

// Rebuilds an ordinary expression from a labelled structure and its table.
template <class Structure, class Table>
constexpr auto unlabel(const Table& table) {
  return detail::unlabelling<Structure>::make(table);
}

}  // namespace tapeless
