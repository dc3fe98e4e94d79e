#pragma once
// tl::d(f, x): the derivative of f with respect to the symbol x, derived at
// compile time and returned as an ordinary expression (so d nests: any order).

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/diff/reverse.hpp>
#include <tapeless/diff/rules/arithmetic.hpp>
#include <tapeless/diff/rules/atan2.hpp>
#include <tapeless/diff/rules/batch_matmul.hpp>
#include <tapeless/diff/rules/batch_statistics.hpp>
#include <tapeless/diff/rules/causal_mask.hpp>
#include <tapeless/diff/rules/clamp.hpp>
#include <tapeless/diff/rules/compare.hpp>
#include <tapeless/diff/rules/conv2d.hpp>
#include <tapeless/diff/rules/detach.hpp>
#include <tapeless/diff/rules/elementary.hpp>
#include <tapeless/diff/rules/erf.hpp>
#include <tapeless/diff/rules/minmax.hpp>
#include <tapeless/diff/rules/normalize.hpp>
#include <tapeless/diff/rules/permute.hpp>
#include <tapeless/diff/rules/pool2d.hpp>
#include <tapeless/diff/rules/pow.hpp>
#include <tapeless/diff/rules/where.hpp>
#include <tapeless/diff/rules/scan.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

template <class X>
struct differentiate_with_respect_to_a_symbol {
  static_assert(always_false<X>,
                "tapeless::d / tapeless::grad: the variable of differentiation must be a symbol "
                "(tl::var, tl::input or tl::param), not an expression or a number; this one "
                "is named in differentiate_with_respect_to_a_symbol<...> above");
  static constexpr bool ok = false;
};

template <class X>
constexpr bool check_variable() {
  if constexpr (is_symbol<std::remove_cvref_t<X>>)
    return true;
  else
    return differentiate_with_respect_to_a_symbol<std::remove_cvref_t<X>>::ok;
}

template <class F>
struct differentiate_an_expression {
  static_assert(always_false<F>,
                "tapeless::d / tapeless::grad: the first argument must be a tapeless "
                "expression; this one is named in differentiate_an_expression<...> above");
  static constexpr bool ok = false;
};

template <class F>
constexpr bool check_function() {
  if constexpr (expression<F>)
    return true;
  else
    return differentiate_an_expression<std::remove_cvref_t<F>>::ok;
}

#ifndef TAPELESS_MAX_GRAPH_NODES
// The most distinct nodes a function or derivative given to tl::d or tl::grad
// may have. Compile time and memory grow with the graph (about quadratically,
// bench/results/compile_time.md); past this bound a graph has usually been
// multiplied by something the user can change, and one message saying so
// beats minutes and gigabytes.
#define TAPELESS_MAX_GRAPH_NODES 4096
#endif

template <std::size_t Nodes, std::size_t Bound>
struct graph_too_large_to_differentiate {
  static_assert(always_false_value<Nodes>,
                "tapeless::d / tapeless::grad: the graph has more distinct nodes than the bound "
                "TAPELESS_MAX_GRAPH_NODES (both are in graph_too_large_to_differentiate<nodes, "
                "bound> above). Share subexpressions by building them once, write plain numbers "
                "that repeat as exact constants (0.5_c), or raise the bound with "
                "-DTAPELESS_MAX_GRAPH_NODES=<n>");
  static constexpr bool ok = false;
};

template <class S>
constexpr bool check_graph_size() {
  constexpr std::size_t nodes = topological_order<S>::size;
  if constexpr (nodes > TAPELESS_MAX_GRAPH_NODES)
    return graph_too_large_to_differentiate<nodes, TAPELESS_MAX_GRAPH_NODES>::ok;
  else
    return true;
}

// E with the constants tl::d keeps labelled inside it unwrapped: its graph
// as written, where every plain number has one type (constant<double>).
template <class E>
struct as_written {
  using type = E;
};
template <class Structure, std::size_t Count>
struct as_written<with_constants<Structure, Count>> {
  using type = Structure;
};
template <class Op, class... Operands>
struct as_written<node<Op, Operands...>> {
  using type = node<Op, typename as_written<Operands>::type...>;
};

#ifndef TAPELESS_MAX_UNSHARED_NODES
// The most operation nodes that plain numbers may add to a function given to
// tl::d, tl::grad, tl::hessian or tl::jvp by making the copies of a reused
// subexpression distinct (see check_sharing). A first derivative of such a
// function still compiles in seconds, but the graph it multiplies is the next
// derivative's input: nested quotients whose 25 written nodes became 201 (62
// numbers, 115 copied operations) made a second derivative run 11 minutes and
// 2.8 GB before it was killed (bench/results/compile_time.md).
#define TAPELESS_MAX_UNSHARED_NODES 64
#endif

template <std::size_t Nodes, std::size_t PlainNumbers>
struct plain_numbers_break_the_sharing_of_a_reused_subexpression {
  static_assert(always_false_value<Nodes>,
                "tapeless::d / tapeless::grad: a subexpression holding plain numbers is used "
                "many times, and as each use holds numbers of its own, none can be shared: the "
                "expression has <distinct nodes> but holds <plain numbers> (both above), and "
                "differentiating it would take minutes and gigabytes. Differentiate "
                "tl::share_numbers<f>() (f constexpr: numbers shared by value), or "
                "tl::share_numbers(f) (numbers known at run time: copies checked equal), or write "
                "the numbers in the reused subexpression as exact constants (0.5_c, tl::c<1, 2>)");
  static constexpr bool ok = false;
};

template <std::size_t NodesWithNumbersApart, std::size_t NodesAsWritten, std::size_t Bound>
struct plain_numbers_multiply_a_reused_subexpression {
  static_assert(always_false_value<NodesWithNumbersApart>,
                "tapeless::d / tapeless::grad: plain numbers make the copies of a reused "
                "subexpression distinct: the function has <nodes with its numbers apart> "
                "distinct nodes where <nodes as written> were written, which is more than the "
                "numbers and TAPELESS_MAX_UNSHARED_NODES (<bound>) copied operations (all three "
                "above), and the next "
                "derivative of such a graph takes minutes. Differentiate tl::share_numbers<f>() "
                "(f constexpr: numbers shared by value), or tl::share_numbers(f) (numbers known "
                "at run time: copies checked equal), or write the numbers as exact constants "
                "(0.5_c, tl::c<1, 2>), or raise the bound with "
                "-DTAPELESS_MAX_UNSHARED_NODES=<n>");
  static constexpr bool ok = false;
};

// Labelling gives every use of a plain number its own slot: a subexpression
// holding one and reused k times becomes k distinct ones, and a map reusing
// its previous level twice becomes a tree. Two checks, on types alone, before
// any derivative: the numbers counted per use against the nodes as written
// (far more numbers than nodes means a tree of exponential size, caught before
// its labelled type is formed), then the distinct nodes once numbers are told
// apart against the nodes as written.
template <class E>
constexpr bool check_sharing() {
  using written = typename as_written<E>::type;
  constexpr std::size_t nodes = topological_order<written>::size;
  constexpr std::size_t plain_numbers = constant_count<E>::value;
  if constexpr (plain_numbers > 4 * nodes + 64) {
    return plain_numbers_break_the_sharing_of_a_reused_subexpression<nodes, plain_numbers>::ok;
  } else if constexpr (plain_numbers < 2) {
    return true;  // no number to copy: nothing to multiply
  } else {
    // As written, the numbers are one leaf (constant<double>); apart, a leaf
    // each: that much is the numbers themselves, the rest copies of nodes.
    constexpr std::size_t apart = topological_order<typename labelling<0, E>::type>::size;
    if constexpr (apart > nodes + plain_numbers + TAPELESS_MAX_UNSHARED_NODES)
      return plain_numbers_multiply_a_reused_subexpression<apart, nodes, TAPELESS_MAX_UNSHARED_NODES>::ok;
    else
      return true;
  }
}

}  // namespace detail

// The result keeps the labelled form (expr/label.hpp: with_constants), so
// that differentiating it again keeps its constants' slots, and its sharing.
template <class F, class X>
constexpr auto d(const F& f, const X&) {
  if constexpr (detail::check_function<F>() && detail::check_variable<X>()) {
    if constexpr (detail::check_sharing<F>()) {
      const auto labelled_f = tapeless::label(f);
      using S = simplified_t<typename decltype(labelled_f)::structure>;
      if constexpr (detail::check_graph_size<S>()) {
        using D = detail::derivative_t<S, X>;
        if constexpr (detail::check_graph_size<D>())
          return tapeless::keep_labelled<D>(labelled_f.constants);
        else
          return exact_constant<rational{0, 1}>{};  // after the one message, no more
      } else
        return exact_constant<rational{0, 1}>{};
    } else
      return exact_constant<rational{0, 1}>{};
  }
}

}  // namespace tapeless
