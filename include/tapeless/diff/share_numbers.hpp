#pragma once
// tl::share_numbers: plain numbers labelled so that a reused subexpression
// holding them stays one node, as it does with exact constants.
//
// Why it is asked for, not automatic: labelling (expr/label.hpp) gives every
// occurrence of a plain number a slot of its own, because types cannot hold
// run-time values: `0.5 * x + 0.7 * x` and a reused `0.5 * x` have the same
// types. That is always right, but a subexpression reused k times becomes k
// distinct ones, and a map reusing its previous level twice becomes a tree
// (nested quotients reused 4 deep: 166 distinct nodes where 26 were written,
// and a second derivative that takes minutes). tl::d sees only types; the
// values are there only where the user has them.
//
// - tl::share_numbers<f>(), for f known while compiling (constexpr): the
//   occurrences of a type holding the same numbers, bit for bit, are one
//   node; others stay apart. Always right, nothing to check.
// - tl::share_numbers(f), for numbers known only at run time: a number's slot
//   is named by its parent's type and operand position, so every copy of a
//   subexpression takes the same slots, and the copies' numbers are checked
//   equal while gathered; a mismatch throws std::invalid_argument (a compile
//   error in a constant expression), never gives a wrong derivative. Two
//   different subexpressions of one type in one formula (1.5 + y^2 and
//   1.0 + y^2) are a mismatch too: use the first form there.
//
// Both return the numbers in a table (with_constants), which tl::d,
// tl::grad, the evaluator and the printers take as they are.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

namespace detail {

// The numbers a distinct node holds itself: its plain-number operands, or the
// table of an expression labelled already.
template <class E>
struct own_numbers {
  enum : std::size_t { value = 0 };
};
template <class Op, class... Operands>
struct own_numbers<node<Op, Operands...>> {
  enum : std::size_t { value = (std::size_t{0} + ... + std::size_t{is_constant<Operands>}) };
};
template <class Structure, std::size_t Count>
struct own_numbers<with_constants<Structure, Count>> {
  enum : std::size_t { value = Count };
};

// First slot of each distinct node: the numbers of the nodes before it in the
// topological order come first. Found by a base-class lookup, one class for
// the whole graph (no template per node pair).
template <class Node, std::size_t First>
struct first_slot_entry {};

template <class Order>
struct slot_counts;
template <class... Nodes>
struct slot_counts<type_list<Nodes...>> {
  static constexpr std::size_t first(std::size_t position) {
    const std::size_t counts[] = {std::size_t{own_numbers<Nodes>::value}..., 0};
    std::size_t slot = 0;
    for (std::size_t i = 0; i < position; ++i) slot += counts[i];
    return slot;
  }
  static constexpr std::size_t total = (std::size_t{0} + ... + std::size_t{own_numbers<Nodes>::value});
};

template <class Order, class Indices = std::make_index_sequence<Order::size>>
struct first_slots;
template <class... Nodes, std::size_t... I>
struct first_slots<type_list<Nodes...>, std::index_sequence<I...>>
    : first_slot_entry<Nodes, slot_counts<type_list<Nodes...>>::first(I)>... {};

template <class Node, std::size_t First>
std::integral_constant<std::size_t, First> first_slot_lookup(const first_slot_entry<Node, First>*);

template <class Slots, class Node>
inline constexpr std::size_t first_slot_of =
    decltype(first_slot_lookup<Node>(static_cast<const Slots*>(nullptr)))::value;

// The structure with every number at its position's slot.
template <class Slots, class E, bool Stateless = is_stateless<E>>
struct shared_labelling {
  using type = E;
};
template <class Slots, class Structure, std::size_t Count>
struct shared_labelling<Slots, with_constants<Structure, Count>, false> {
  using type = typename shifted_slots<Structure, first_slot_of<Slots, with_constants<Structure, Count>>>::type;
};

template <class Slots, class Node, class Indices>
struct shared_node_labelling;
template <class Slots, class Op, class... Operands, std::size_t... I>
struct shared_node_labelling<Slots, node<Op, Operands...>, std::index_sequence<I...>> {
  // Slot of operand `operand` when it is a plain number.
  static constexpr std::size_t slot(std::size_t operand) {
    const bool numbers[] = {is_constant<Operands>...};
    std::size_t s = first_slot_of<Slots, node<Op, Operands...>>;
    for (std::size_t j = 0; j < operand; ++j) s += numbers[j];
    return s;
  }
  template <std::size_t J, class Operand>
  struct operand_type {
    using type = typename shared_labelling<Slots, Operand>::type;
  };
  template <std::size_t J, class T>
  struct operand_type<J, constant<T>> {
    using type = constant_slot<slot(J), T>;
  };
  using type = node<Op, typename operand_type<I, Operands>::type...>;
};
template <class Slots, class Op, class... Operands>
struct shared_labelling<Slots, node<Op, Operands...>, false> {
  using type = typename shared_node_labelling<Slots, node<Op, Operands...>,
                                              std::index_sequence_for<Operands...>>::type;
};

// Gathering the numbers: the first copy of a slot sets it, every later copy
// must hold the same bits (so NaN matches NaN, and 0.0 does not match -0.0,
// whose derivatives can differ).
template <std::size_t Count>
struct gathered_numbers {
  std::array<double, Count> values{};
  std::array<bool, Count> set{};
  bool equal = true;

  constexpr void put(std::size_t slot, double value) {
    if (!set[slot]) {
      set[slot] = true;
      values[slot] = value;
    } else if (std::bit_cast<std::uint64_t>(values[slot]) != std::bit_cast<std::uint64_t>(value)) {
      equal = false;
    }
  }
};

template <class Slots, class E, bool Stateless = is_stateless<E>>
struct number_gathering {
  template <class Gathered>
  static constexpr void gather(Gathered&, const E&) {}
};
template <class Slots, class Structure, std::size_t Count>
struct number_gathering<Slots, with_constants<Structure, Count>, false> {
  template <class Gathered>
  static constexpr void gather(Gathered& gathered, const with_constants<Structure, Count>& e) {
    constexpr std::size_t first = first_slot_of<Slots, with_constants<Structure, Count>>;
    for (std::size_t i = 0; i < Count; ++i) gathered.put(first + i, e.constants[i]);
  }
};
template <class Slots, class Op, class... Operands>
struct number_gathering<Slots, node<Op, Operands...>, false> {
  using positions =
      shared_node_labelling<Slots, node<Op, Operands...>, std::index_sequence_for<Operands...>>;
  template <std::size_t I, class Gathered, class Operand>
  static constexpr void gather_operand(Gathered& gathered, const Operand& operand) {
    if constexpr (is_constant<Operand>)
      gathered.put(positions::slot(I), static_cast<double>(operand.value));
    else
      number_gathering<Slots, Operand>::gather(gathered, operand);
  }
  template <class Gathered>
  static constexpr void gather(Gathered& gathered, const node<Op, Operands...>& n) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (gather_operand<I>(gathered, tapeless::operand_at<I>(n)), ...);
    }(std::index_sequence_for<Operands...>{});
  }
};

// Sharing by value, for an expression known while compiling
// (tl::share_numbers<f>()): every occurrence of a subexpression is put in a
// class with the others of its type holding the same numbers, bit for bit,
// and each class becomes one labelled node. Copies are merged, `0.5 * x` and
// `0.7 * x` are not: nothing to state and nothing to check. The classes are
// found by one constexpr walk over the occurrences (linear in the size of f
// written out as a tree), and the labelled type is formed once per class.
inline constexpr std::size_t no_class = static_cast<std::size_t>(-1);
inline constexpr std::size_t most_operands_shared = 8;

struct number_class {
  std::size_t type = 0;                                  // position in the topological order
  std::size_t operands[most_operands_shared] = {};       // classes of operands holding numbers
  std::size_t first_number = 0;                          // into the walk's list of numbers
  std::size_t numbers = 0;                               // own numbers (slots)
};

struct number_classes_in_progress {
  std::vector<number_class> classes;
  std::vector<double> values;

  // The class of an occurrence: an equal one found, or a new one.
  constexpr std::size_t classify(const number_class& candidate, const std::vector<double>& own) {
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const number_class& k = classes[c];
      if (k.type != candidate.type || k.numbers != own.size()) continue;
      bool same = true;
      for (std::size_t i = 0; same && i < most_operands_shared; ++i) same = k.operands[i] == candidate.operands[i];
      for (std::size_t i = 0; same && i < own.size(); ++i)
        same = std::bit_cast<std::uint64_t>(values[k.first_number + i]) == std::bit_cast<std::uint64_t>(own[i]);
      if (same) return c;
    }
    number_class added = candidate;
    added.first_number = values.size();
    added.numbers = own.size();
    for (const double v : own) values.push_back(v);
    classes.push_back(added);
    return classes.size() - 1;
  }
};

template <class Positions, class E, bool Stateless = is_stateless<E>>
struct number_classification {
  static constexpr std::size_t classify(number_classes_in_progress&, const E&) { return no_class; }
};
template <class Positions, class Structure, std::size_t Count>
struct number_classification<Positions, with_constants<Structure, Count>, false> {
  static constexpr std::size_t classify(number_classes_in_progress& progress,
                                        const with_constants<Structure, Count>& e) {
    number_class candidate{};
    candidate.type = first_slot_of<Positions, with_constants<Structure, Count>>;
    for (std::size_t& o : candidate.operands) o = no_class;
    std::vector<double> own(e.constants.begin(), e.constants.end());
    return progress.classify(candidate, own);
  }
};
template <class Positions, class Op, class... Operands>
struct number_classification<Positions, node<Op, Operands...>, false> {
  static_assert(sizeof...(Operands) <= most_operands_shared,
                "tapeless::share_numbers<f>(): f has a node of more than 8 operands, more than "
                "the walk by value keeps per class (most_operands_shared); share it by position "
                "with tl::share_numbers(f), or differentiate f as it is");
  static constexpr std::size_t classify(number_classes_in_progress& progress, const node<Op, Operands...>& n) {
    number_class candidate{};
    candidate.type = first_slot_of<Positions, node<Op, Operands...>>;
    for (std::size_t& o : candidate.operands) o = no_class;
    std::vector<double> own;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            using operand = std::remove_cvref_t<decltype(tapeless::operand_at<I>(n))>;
            if constexpr (is_constant<operand>)
              own.push_back(static_cast<double>(tapeless::operand_at<I>(n).value));
            else
              candidate.operands[I] =
                  number_classification<Positions, operand>::classify(progress, tapeless::operand_at<I>(n));
          }(),
          ...);
    }(std::index_sequence_for<Operands...>{});
    return progress.classify(candidate, own);
  }
};

// Positions of the distinct types: a first_slots table where each type counts 1.
template <class Order>
struct type_positions;
template <class... Nodes>
struct type_positions<type_list<Nodes...>> {
  template <class Indices>
  struct table;
  template <std::size_t... I>
  struct table<std::index_sequence<I...>> : first_slot_entry<Nodes, I>... {};
  using type = table<std::index_sequence_for<Nodes...>>;
};

// The classes of F's occurrences, and the slot of each class's first number.
template <auto F>
struct number_classes_of {
  using expression_type = std::remove_cvref_t<decltype(F)>;
  using positions = typename type_positions<topological_order<expression_type>>::type;

  static constexpr std::size_t count() {
    number_classes_in_progress progress;
    number_classification<positions, expression_type>::classify(progress, F);
    return progress.classes.size();
  }
  static constexpr std::size_t number_count() {
    number_classes_in_progress progress;
    number_classification<positions, expression_type>::classify(progress, F);
    return progress.values.size();
  }
  static constexpr std::size_t class_count = count();
  static constexpr std::size_t numbers = number_count();

  struct table {
    std::array<number_class, class_count> classes{};
    std::array<double, numbers> values{};
    std::size_t root = no_class;
  };
  static constexpr table make() {
    number_classes_in_progress progress;
    table t{};
    t.root = number_classification<positions, expression_type>::classify(progress, F);
    for (std::size_t c = 0; c < class_count; ++c) t.classes[c] = progress.classes[c];
    for (std::size_t i = 0; i < numbers; ++i) t.values[i] = progress.values[i];
    return t;
  }
  static constexpr table found = make();
};

template <class Classes, class E, std::size_t Class, bool Stateless = is_stateless<E>>
struct value_labelling {
  using type = E;
};
template <class Classes, class Structure, std::size_t Count, std::size_t Class>
struct value_labelling<Classes, with_constants<Structure, Count>, Class, false> {
  using type = typename shifted_slots<Structure, Classes::found.classes[Class].first_number>::type;
};
template <class Classes, class Node, std::size_t Class, class Indices>
struct value_node_labelling;
template <class Classes, class Op, class... Operands, std::size_t Class, std::size_t... I>
struct value_node_labelling<Classes, node<Op, Operands...>, Class, std::index_sequence<I...>> {
  static constexpr std::size_t slot(std::size_t operand) {
    const bool numbers[] = {is_constant<Operands>...};
    std::size_t s = Classes::found.classes[Class].first_number;
    for (std::size_t j = 0; j < operand; ++j) s += numbers[j];
    return s;
  }
  template <std::size_t J, class Operand>
  struct operand_type {
    using type = typename value_labelling<Classes, Operand, Classes::found.classes[Class].operands[J]>::type;
  };
  template <std::size_t J, class T>
  struct operand_type<J, constant<T>> {
    using type = constant_slot<slot(J), T>;
  };
  using type = node<Op, typename operand_type<I, Operands>::type...>;
};
template <class Classes, class Op, class... Operands, std::size_t Class>
struct value_labelling<Classes, node<Op, Operands...>, Class, false> {
  using type = typename value_node_labelling<Classes, node<Op, Operands...>, Class,
                                             std::index_sequence_for<Operands...>>::type;
};

}  // namespace detail

// f with its plain numbers shared by position: every copy of a subexpression
// (the same type) takes the same slots, so a reused subexpression holding
// plain numbers is one node to tl::d, as it would be with exact constants.
// Throws std::invalid_argument, leaving f as it was, when two subexpressions
// of one type hold different numbers (`0.5 * x + 0.7 * x`): those must stay
// apart, which tl::share_numbers<f>() does when f is known while compiling.
template <expression E>
constexpr auto share_numbers(const E& e) {
  using order = detail::topological_order<E>;
  using counts = detail::slot_counts<order>;
  if constexpr (counts::total == 0) {
    return e;
  } else {
    using slots = detail::first_slots<order>;
    using structure = typename detail::shared_labelling<slots, E>::type;
    detail::gathered_numbers<counts::total> gathered{};
    detail::number_gathering<slots, E>::gather(gathered, e);
    if (!gathered.equal)
      throw std::invalid_argument(
          "tl::share_numbers: two copies of one subexpression hold different plain numbers "
          "(as in 0.5 * x + 0.7 * x), so they cannot be shared by position: for an expression "
          "known while compiling use tl::share_numbers<f>() (shares by value), else write the "
          "numbers that differ as exact constants (0.5_c, tl::c<7, 10>) or differentiate the "
          "expression as it is");
    return with_constants<structure, counts::total>{gathered.values};
  }
}

}  // namespace tapeless

namespace tapeless {

// F (an expression known while compiling: `constexpr auto f = ...;
// tl::share_numbers<f>()`) with its plain numbers shared by value: the
// occurrences of a subexpression that hold the same numbers are one node,
// those holding other numbers stay apart (`0.5 * x + 0.7 * x` keeps both).
// Always right, never throws: a reused subexpression with plain numbers costs
// tl::d what it costs with exact constants. Needs a class holding a double as
// a template argument (C++20; g++ 11, clang 18; not clang 14).
template <auto F>
  requires expression<decltype(F)>
constexpr auto share_numbers() {
  using classes = detail::number_classes_of<F>;
  if constexpr (classes::numbers == 0) {
    return F;
  } else {
    using structure = typename detail::value_labelling<classes, typename classes::expression_type,
                                                       classes::found.root>::type;
    return with_constants<structure, classes::numbers>{classes::found.values};
  }
}

}  // namespace tapeless
