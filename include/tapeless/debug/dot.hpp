#pragma once
// tl::to_dot(program): the graph a program runs, in Graphviz DOT, with each
// kernel drawn as a box around the nodes it computes (a fused loop holds a
// whole elementwise tree). Nodes without a box are read from memory: params,
// inputs, constants, and views (a reshape, a transpose read by a matmul).
//
//   std::ofstream("program.dot") << tl::to_dot(program);   // dot -Tsvg program.dot
//
// The training schedule (forward and backward) is drawn for a program that
// trains, the forward one otherwise; to_dot<tl::forward_pass>(program) asks
// for the forward one (a training program whose forward call runs its step's
// kernels, Program::forward_within_training, runs part of the training one).

#include <cstddef>
#include <string>
#include <type_traits>

#include <tapeless/compile/program.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

struct forward_pass {};
struct training_pass {};

namespace detail {

template <class S>
std::string shape_text() {
  std::string text = "[";
  for (std::size_t i = 0; i < S::rank; ++i) text += (i ? ", " : "") + std::to_string(S::dims[i]);
  return text + "]";
}

template <class N>
std::string dot_label() {
  if constexpr (is_symbol<N>) {
    return std::string(N::name.view()) + " " + shape_text<shape_of<N>>();
  } else if constexpr (is_exact<N>) {
    std::string text = std::to_string(N::value.num);
    if (N::value.den != 1) text += "/" + std::to_string(N::value.den);
    return text;
  } else if constexpr (!is_node<N>) {
    return "constant";
  } else {
    using Op = typename N::operation;
    std::string name;
    if constexpr (requires { Op::name; })
      name = std::string(Op::name);
    else if constexpr (requires { Op::infix; })
      name = std::string(Op::infix);
    else if constexpr (requires { Op::prefix; })
      name = std::string(Op::prefix);
    return name + " " + shape_text<shape_of<N>>();
  }
}

inline std::string dot_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

template <class Schedule>
std::string schedule_to_dot() {
  using Order = typename Schedule::nodes;
  constexpr auto& plan = Schedule::plan;
  constexpr auto& graph = Schedule::graph;
  constexpr std::size_t n = Schedule::node_count;
  std::string labels[n == 0 ? 1 : n];
  [&]<class... Ns>(type_list<Ns...>) {
    std::size_t i = 0;
    ((labels[i++] = dot_label<Ns>()), ...);
  }(Order{});

  std::string out = "digraph tapeless {\n  rankdir=BT;\n  node [shape=box, style=rounded, fontname=\"monospace\"];\n";
  out += "  label=\"" + std::to_string(plan.kernel_count) + " kernels, arena " +
         std::to_string(plan.arena_bytes) + " bytes\";\n";
  for (std::size_t k = 0; k < plan.kernel_count; ++k) {
    const auto root = static_cast<std::size_t>(plan.schedule[k]);
    out += "  subgraph cluster_" + std::to_string(k) + " {\n    label=\"kernel " + std::to_string(k) + "\";\n";
    out += "    style=filled; color=lightgrey;\n";
    for (std::size_t i = 0; i < n; ++i)
      if (plan.owner[i] == static_cast<int>(root))
        out += "    n" + std::to_string(i) + " [label=\"" + dot_escape(labels[i]) + "\"];\n";
    out += "  }\n";
  }
  for (std::size_t i = 0; i < n; ++i)
    if (plan.owner[i] < 0) {
      const char* style = graph.nodes[i].in_register ? "plaintext" : "box";
      out += "  n" + std::to_string(i) + " [label=\"" + dot_escape(labels[i]) + "\", shape=" + style + "];\n";
    }
  for (std::size_t i = 0; i < n; ++i)
    graph.for_operands(i, [&](int k) { out += "  n" + std::to_string(k) + " -> n" + std::to_string(i) + ";\n"; });
  return out + "}\n";
}

}  // namespace detail

template <class Pass = void, class Program>
std::string to_dot(const Program&) {
  constexpr bool training = std::is_same_v<Pass, training_pass> ||
                            (std::is_same_v<Pass, void> && Program::trains);
  if constexpr (training)
    return detail::schedule_to_dot<typename Program::training_schedule>();
  else
    return detail::schedule_to_dot<typename Program::forward_schedule>();
}

}  // namespace tapeless
