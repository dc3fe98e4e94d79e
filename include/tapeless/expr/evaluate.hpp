#pragma once
// Evaluating scalar expressions with named bindings: f(x = 0.5, y = 2.0).
// Each distinct node is computed once, in topological order, into a slot of a
// local array: shared subexpressions are never recomputed. Everything is
// constexpr, so expressions made of + - * / and exact powers evaluate at
// compile time on every compiler.

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/bindings.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/math_constant.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/pow.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

template <class B>
using bound_arithmetic = std::conditional_t<std::is_arithmetic_v<typename B::value_type>,
                                            typename B::value_type, void>;

template <class... Ts>
struct common_arithmetic {
  using type = double;
};
template <class T, class... Ts>
struct common_arithmetic<T, Ts...> {
  using rest = typename common_arithmetic<Ts...>::type;
  using type = std::conditional_t<std::is_void_v<T>, rest, std::common_type_t<T, rest>>;
};
template <class T>
struct common_arithmetic<T> {
  using type = std::conditional_t<std::is_void_v<T>, double, T>;
};

}  // namespace detail

// The type scalar evaluation computes in: the common type of the bound numbers,
// floating point (integers promote to double).
template <class... Bindings>
using evaluation_type = std::conditional_t<
    std::is_floating_point_v<
        typename detail::common_arithmetic<detail::bound_arithmetic<Bindings>...>::type>,
    typename detail::common_arithmetic<detail::bound_arithmetic<Bindings>...>::type, double>;

namespace detail {

// Evaluation is one function per graph (scalar_program::run below): a fold
// over a flat program, one line per node, that writes each value into a local
// array. A line is a step (a class per operation, not per node) and the
// positions it reads. Function templates or variables per node made g++
// mangle, for every node, a name holding the whole graph, and naming the
// node table inside the fold made g++ substitute it for every node: compile
// time cubic in depth (bench/results/compile_time.md).

// Where each node's value sits in the array: positions<Order> derives from
// position_tag<I, T> for the I-th node T, and position_in<T, P> finds I by
// deduction from that base, in a declaration used only inside decltype.
// Per-node constants are enumerators and aliases, never variables: g++ keeps
// every variable (a variable template's specialization, a static data
// member) and mangles its name, which here holds the whole graph.
template <std::size_t I, class T>
struct position_tag {
  static std::integral_constant<std::size_t, I> at(T**);
};

template <class Order, class Indices = std::make_index_sequence<Order::size>>
struct positions;
template <class... Nodes, std::size_t... I>
struct positions<type_list<Nodes...>, std::index_sequence<I...>> : position_tag<I, Nodes>... {
  using position_tag<I, Nodes>::at...;
};

template <class T, class Positions>
using position_in = decltype(Positions::at(static_cast<T**>(nullptr)));

// A bound number in the evaluation type (0 for a binding that is not a number:
// a scalar expression never reads it).
template <class V, class B>
constexpr V bound_value(const B& b) {
  if constexpr (std::is_arithmetic_v<typename B::value_type>)
    return static_cast<V>(b.value);
  else
    return V{};
}

// What a step reads: the values computed so far, the reciprocals of the
// denominators that several divisions share, the bound numbers and the
// table of run-time constants.
template <class V, std::size_t Nodes, std::size_t Bound, class Table>
struct evaluation_state {
  using value_type = V;
  const std::array<V, Nodes>& values;
  const std::array<V, Nodes>& reciprocals;
  const std::array<V, Bound>& bound;
  const Table& table;
};

// The steps. Each computes one value from the state, given the positions it
// reads (a std::array, one per operand).
struct read_binding {
  template <class State, class Reads>
  static constexpr auto compute(const State& s, const Reads& at) {
    return s.bound[at[0]];
  }
};

template <rational R>
struct read_exact {
  template <class State, class Reads>
  static constexpr auto compute(const State&, const Reads&) {
    return R.template as<typename State::value_type>();
  }
};

template <class Tag>
struct read_math_constant {
  template <class State, class Reads>
  static constexpr auto compute(const State&, const Reads&) {
    return math_constant<Tag>::template as<typename State::value_type>();
  }
};

template <class T>
struct read_slot {
  template <class State, class Reads>
  static constexpr auto compute(const State& s, const Reads& at) {
    return static_cast<typename State::value_type>(static_cast<T>(s.table[at[0]]));
  }
};

// An operand read from the values, or (for operations that take exact
// operands, as pow does its exponent) an exact constant passed as its type.
struct from_values {};

template <class Kind, class State>
constexpr auto fetch(const State& s, std::size_t i) {
  if constexpr (std::is_same_v<Kind, from_values>)
    return s.values[i];
  else
    return Kind{};
}

// Op applied to its operands, for any count: a class per operation and kinds
// of operands, not per node.
template <class Op, class Indices, class... Kinds>
struct apply_step_of;
template <class Op, std::size_t... I, class... Kinds>
struct apply_step_of<Op, std::index_sequence<I...>, Kinds...> {
  template <class State, class Reads>
  static constexpr auto compute(const State& s, const Reads& at) {
    return static_cast<typename State::value_type>(Op::apply(fetch<Kinds>(s, at[I])...));
  }
};
template <class Op, class... Kinds>
using apply_step = apply_step_of<Op, std::index_sequence_for<Kinds...>, Kinds...>;

// a/b where b is the denominator of several divisions (or the base of several
// negative powers): a times the one reciprocal of b. A division costs several
// multiplications, and gradients divide by the same denominator often (every
// partial of a quotient, every term of a sum over data divided by a scale).
// The result may differ from a/b in the last bit.
struct times_reciprocal {
  template <class State, class Reads>
  static constexpr auto compute(const State& s, const Reads& at) {
    return s.values[at[0]] * s.reciprocals[at[1]];
  }
};

// b^-K (K a positive integer) from the shared reciprocal of b.
template <std::intmax_t K>
struct reciprocal_power {
  template <class State, class Reads>
  static constexpr auto compute(const State& s, const Reads& at) {
    return power_by_squaring<K>(s.reciprocals[at[0]]);
  }
};

template <bool TakesExact, class Operand>
struct operand_kind_of {
  using type = from_values;
};
template <rational K>
struct operand_kind_of<true, exact_constant<K>> {
  using type = exact_constant<K>;
};
template <class Op, class Operand>
using operand_kind =
    typename operand_kind_of<requires { Op::takes_exact_operands; }, Operand>::type;

// What a node divides by: the denominator of a/b, the base of b^-k.
template <class Node>
struct denominator_of {
  using type = gathered<>;
};
template <class A, class B>
struct denominator_of<node<div_op, A, B>> {
  using type = gathered<B>;
};
template <class B, rational K>
  requires(power_by_squaring_exponent<K> && K.num < 0)
struct denominator_of<node<pow_op, B, exact_constant<K>>> {
  using type = gathered<B>;
};

template <class Order>
struct denominators_in;
template <class... Nodes>
struct denominators_in<type_list<Nodes...>> {
  using type = decltype((gathered<>{} | ... | typename denominator_of<Nodes>::type{}));
};

// Is T the denominator of two nodes or more?
template <class T, class Denominators>
struct shared_denominator;
template <class T, class... Ds>
struct shared_denominator<T, gathered<Ds...>> {
  enum : bool { value = (std::size_t{0} + ... + std::size_t{__is_same(T, Ds)}) >= 2 };
};

// How a node is computed: by its operation, or (a division, a negative
// power) from the shared reciprocal of its denominator.
template <class Node, class Denominators>
struct node_step;
template <class Op, class... Operands, class Denominators>
struct node_step<node<Op, Operands...>, Denominators> {
  using type = apply_step<Op, operand_kind<Op, Operands>...>;
};
template <class A, class B, class Denominators>
  requires(bool(shared_denominator<B, Denominators>::value))
struct node_step<node<div_op, A, B>, Denominators> {
  using type = times_reciprocal;
};
template <class B, rational K, class Denominators>
  requires(power_by_squaring_exponent<K> && K.num < 0 &&
           bool(shared_denominator<B, Denominators>::value))
struct node_step<node<pow_op, B, exact_constant<K>>, Denominators> {
  using type = reciprocal_power<-K.num>;
};

// What computes Node, and the positions it reads (one per operand; a leaf
// reads its binding or its slot of the table).
template <class Node, class Positions, class Denominators, class... Bindings>
struct instruction;
template <fixed_string Name, class Element, class Shape, symbol_kind Kind, class Positions,
          class Denominators, class... Bindings>
struct instruction<symbol<Name, Element, Shape, Kind>, Positions, Denominators, Bindings...> {
  using step = read_binding;
  using reads = std::index_sequence<binding_index<Name, Bindings...>>;
};
template <rational R, class Positions, class Denominators, class... Bindings>
struct instruction<exact_constant<R>, Positions, Denominators, Bindings...> {
  using step = read_exact<R>;
  using reads = std::index_sequence<>;
};
template <class Tag, class Positions, class Denominators, class... Bindings>
struct instruction<math_constant<Tag>, Positions, Denominators, Bindings...> {
  using step = read_math_constant<Tag>;
  using reads = std::index_sequence<>;
};
template <std::size_t Slot, class T, class Positions, class Denominators, class... Bindings>
struct instruction<constant_slot<Slot, T>, Positions, Denominators, Bindings...> {
  using step = read_slot<T>;
  using reads = std::index_sequence<Slot>;
};
template <class Op, class... Operands, class Positions, class Denominators, class... Bindings>
struct instruction<node<Op, Operands...>, Positions, Denominators, Bindings...> {
  using step = typename node_step<node<Op, Operands...>, Denominators>::type;
  using reads = std::index_sequence<position_in<Operands, Positions>::value...>;
};

// One line of the flat program: the value at Position is Step applied at the
// positions Reads; KeepReciprocal when later nodes divide by it. Lines name
// no node (only numbers and a step), so the loop below substitutes nothing of
// the graph's size per node (naming the node table per node made that loop
// cubic).
template <class Step, std::size_t Position, bool KeepReciprocal, class Reads>
struct program_line;
template <class Step, std::size_t Position, bool KeepReciprocal, std::size_t... Reads>
struct program_line<Step, Position, KeepReciprocal, std::index_sequence<Reads...>> {
  using step = Step;
  enum : std::size_t { position = Position };
  enum : bool { keep_reciprocal = KeepReciprocal };
  static constexpr std::array<std::size_t, sizeof...(Reads)> reads{Reads...};
};

template <class Node, class Positions, class Denominators, class... Bindings>
using line_of = program_line<typename instruction<Node, Positions, Denominators, Bindings...>::step,
                             position_in<Node, Positions>::value,
                             shared_denominator<Node, Denominators>::value,
                             typename instruction<Node, Positions, Denominators, Bindings...>::reads>;

template <class Order, class Positions, class Denominators, class... Bindings>
struct program_of;
template <class... Nodes, class Positions, class Denominators, class... Bindings>
struct program_of<type_list<Nodes...>, Positions, Denominators, Bindings...> {
  using type = type_list<line_of<Nodes, Positions, Denominators, Bindings...>...>;
};

template <class V, class Program, class RootPositions>
struct scalar_program;
template <class V, class... Lines, std::size_t... Roots>
struct scalar_program<V, type_list<Lines...>, std::index_sequence<Roots...>> {
  // Computes every line, in order, and returns the values at Roots only. The
  // arrays never leave this function, so the compiler can keep them in
  // registers; they are not zeroed first (every element read was written
  // before), which on a large graph would be a memset per call.
  template <class Table, class... Bindings>
  static constexpr std::array<V, sizeof...(Roots)> run(const Table& table,
                                                       const Bindings&... bindings) {
    const std::array<V, sizeof...(Bindings)> bound{bound_value<V>(bindings)...};
    std::array<V, sizeof...(Lines)> values;
    std::array<V, sizeof...(Lines)> reciprocals;
    const evaluation_state<V, sizeof...(Lines), sizeof...(Bindings), Table> state{
        values, reciprocals, bound, table};
    // Each node, then (for a shared denominator) its reciprocal.
    ((values[Lines::position] = Lines::step::compute(state, Lines::reads),
      Lines::keep_reciprocal ? void(reciprocals[Lines::position] = V(1) / values[Lines::position])
                             : void()),
     ...);
    return {values[Roots]...};
  }
};

}  // namespace detail

// Values of several labelled roots in one pass over their shared graph.
template <class V, class... Roots, class Table, class... Bindings>
constexpr std::array<V, sizeof...(Roots)> evaluate_structures(const Table& table,
                                                              const Bindings&... bindings) {
  using order = detail::topological_order<Roots...>;
  using layout = detail::positions<order>;
  using denominators = typename detail::denominators_in<order>::type;
  using program = detail::scalar_program<
      V, typename detail::program_of<order, layout, denominators, Bindings...>::type,
      std::index_sequence<detail::position_in<Roots, layout>::value...>>;
  return program::run(table, bindings...);
}

namespace detail {

template <class E>
struct tensor_evaluation_needs_compile {
  static_assert(always_false<E>,
                "tapeless: calling an expression evaluates scalars (rank 0); a tensor "
                "expression is evaluated by a program made with tl::compile");
  static constexpr bool ok = false;
};

}  // namespace detail

// Checks the bindings against the symbols of the labelled roots (a type_list):
// one static_assert, naming the symbol, per problem.
template <class Roots, class... Bindings>
constexpr bool check_evaluation() {
  return detail::binding_check<detail::evaluation_diagnostics,
                               typename Roots::template apply<detail::topological_order>>::template ok<Bindings...>();
}

template <expression E, class... Bindings>
constexpr auto evaluate(const E& e, const Bindings&... bindings) {
  using V = evaluation_type<Bindings...>;
  const auto labelled_e = tapeless::label(e);
  using S = typename decltype(labelled_e)::structure;
  if constexpr (shape_of<E>::rank != 0)
    return detail::tensor_evaluation_needs_compile<E>::ok;
  else if constexpr (!check_evaluation<detail::type_list<S>, Bindings...>())
    return V{};
  else
    return tapeless::evaluate_structures<V, S>(labelled_e.constants, bindings...)[0];
}

}  // namespace tapeless
