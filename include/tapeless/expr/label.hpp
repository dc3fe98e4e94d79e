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
//
// What tl::d and tl::grad return keeps the labelled form (with_constants):
// a derivative repeats the function's constants in many places, and putting
// the values back and labelling them again would give every copy a slot of
// its own, so that nodes shared in the derivative stopped being shared in the
// next one, and each order multiplied the graph (a second derivative of
// sigmoid(exp(0.3*(x/(2.0 + square(x))))) took 31 s and 1 GB to compile, 8x
// what it took with exact constants). Kept labelled, the slots stay where
// they were, and plain numbers cost what exact constants do.

#include <array>
#include <cstddef>
#include <utility>

#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

// An expression whose run-time constants are labelled already: Structure holds
// constant_slot<i, T> leaves, constants their values.
template <class Structure, std::size_t Count>
struct with_constants : expression_interface<with_constants<Structure, Count>> {
  using structure = Structure;
  using shape_type = typename Structure::shape_type;
  std::array<double, Count> constants{};

  constexpr with_constants() = default;
  constexpr explicit with_constants(const std::array<double, Count>& values) : constants(values) {}
};

namespace detail {

template <class Structure, std::size_t Count>
constexpr bool is_stateless<with_constants<Structure, Count>> = false;

template <class E>
inline constexpr bool is_with_constants = false;
template <class Structure, std::size_t Count>
inline constexpr bool is_with_constants<with_constants<Structure, Count>> = true;

// Structure with every slot number raised by Offset (nothing to do at 0).
template <class S, std::size_t Offset, bool Unchanged = (Offset == 0)>
struct shifted_slots {
  using type = S;
};
template <std::size_t Slot, class T, std::size_t Offset>
struct shifted_slots<constant_slot<Slot, T>, Offset, false> {
  using type = constant_slot<Slot + Offset, T>;
};
template <class Op, class... Operands, std::size_t Offset>
struct shifted_slots<node<Op, Operands...>, Offset, false> {
  using type = node<Op, typename shifted_slots<Operands, Offset>::type...>;
};

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

// How many run-time constants E holds (counted per occurrence). A stateless
// subexpression holds none and is not walked.
template <class E, bool Stateless = is_stateless<E>>
struct constant_count {
  enum : std::size_t { value = 0 };
};
template <class T>
struct constant_count<constant<T>, false> {
  enum : std::size_t { value = 1 };
};
template <class Structure, std::size_t Count>
struct constant_count<with_constants<Structure, Count>, false> {
  enum : std::size_t { value = Count };
};
template <class Op, class... Operands>
struct constant_count<node<Op, Operands...>, false> {
  enum : std::size_t { value = (std::size_t{0} + ... + std::size_t{constant_count<Operands>::value}) };
};

// A node of any number of operands: operand I takes the slots after those of
// operands 0 .. I-1, one flat expansion over the operands.
template <std::size_t Next, class Node, class Indices>
struct node_labelling;
template <std::size_t Next, class Op, class... Operands, std::size_t... I>
struct node_labelling<Next, node<Op, Operands...>, std::index_sequence<I...>> {
  static constexpr std::size_t offset(std::size_t operand) {
    const std::size_t counts[] = {std::size_t{constant_count<Operands>::value}...};
    std::size_t slot = Next;
    for (std::size_t j = 0; j < operand; ++j) slot += counts[j];
    return slot;
  }
  using type = node<Op, typename labelling<offset(I), Operands>::type...>;
  static constexpr std::size_t count = constant_count<node<Op, Operands...>>::value;
  template <class Table>
  static constexpr void fill(Table& table, const node<Op, Operands...>& n) {
    (labelling<offset(I), Operands>::fill(table, tapeless::operand_at<I>(n)), ...);
  }
};

template <std::size_t Next, class Op, class... Operands>
struct labelling<Next, node<Op, Operands...>, false>
    : node_labelling<Next, node<Op, Operands...>, std::index_sequence_for<Operands...>> {};

// Labelled already: its slots move up by Next, its values go there.
template <std::size_t Next, class Structure, std::size_t Count>
struct labelling<Next, with_constants<Structure, Count>, false> {
  using type = typename shifted_slots<Structure, Next>::type;
  static constexpr std::size_t count = Count;
  template <class Table>
  static constexpr void fill(Table& table, const with_constants<Structure, Count>& e) {
    for (std::size_t i = 0; i < Count; ++i) table[Next + i] = e.constants[i];
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

// A labelled structure as an expression to hand to the user: itself when it
// holds no slot (an empty type, as before labelling), else with its table.
template <class Structure, std::size_t Count>
constexpr auto keep_labelled(const std::array<double, Count>& table) {
  if constexpr (Count == 0 || !detail::has_slots<Structure>)
    return Structure{};
  else
    return with_constants<Structure, Count>{table};
}

}  // namespace tapeless
