#pragma once
// Outputs: where a program's results go. output_op<0> wraps the program's
// own value (the loss, or the predicted tensor), output_op<i> the gradient
// of parameter i - 1, output_op<step_output_index> a value the step also
// returns (tl::compile(loss, tl::step_output(logits))). An elementwise identity, so the expression it wraps
// fuses into its loop; a value with a kernel of its own writes there directly.

#include <cstddef>
#include <string_view>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/elementwise.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

// The index of a step's extra output: after every gradient, whatever their number.
inline constexpr std::size_t step_output_index = ~std::size_t{0};

template <std::size_t Index, class Shape>
struct output_op : elementwise_operation {
  static constexpr std::string_view name = "output";
  static constexpr std::size_t index = Index;
  template <class A>
  struct result_shape {
    using type = Shape;
  };
  static constexpr auto apply(auto a) { return a; }
};

namespace detail {

// An elementwise loop (the identity) that writes into the result or the
// store; nothing reads it, so it fuses into nothing.
struct output_family : elementwise_family {
  static constexpr bool output = true;
  static constexpr bool fuses_into_consumer = false;

  // Where output J writes: the program's result, or a gradient in the store.
  template <class Sched, std::size_t J, class Ctx>
  static auto* destination(const Ctx& c) noexcept {
    constexpr std::size_t out = Sched::template node_at<J>::operation::index;
    if constexpr (out == 0)
      return c.result;
    else if constexpr (out == step_output_index)
      return c.step_output;
    else
      return c.params.template grad<Sched::template parameter<out - 1>::name>().data();
  }
};

template <std::size_t Index, class Shape>
struct op_family<output_op<Index, Shape>> {
  using type = output_family;
};

}  // namespace detail

}  // namespace tapeless
