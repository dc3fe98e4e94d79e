#pragma once
// Kernel families: what the compiler knows of each kind of node. A family is
// a class that states its scheduling facts as named constants (read by the
// planner, compile/plan.hpp, which never names a family) and runs its kernel
// (called by the schedule, compile/schedule.hpp). Each family lives in its own
// file under compile/kernels/ and claims its operations by specializing
// op_family; elementwise operations need no claim (elementwise.hpp takes every
// operation derived from elementwise_operation).
//
// A family derives from kernel_family_defaults and overrides what differs,
// each with a sentence saying why. What it may define besides:
//   template <class Sched, int I, class Ctx> static void run(const Ctx&);
//       its kernel, for the root at node index I, Sched::node_at<I> (families with a kernel);
//   template <class Sched, std::size_t J, class Ctx> static const auto* pointer(const Ctx&);
//       where node J's values are read from, when not from its own buffer (leaves, views);
//   template <class F, std::size_t J, class V, class Ctx> static V loop_value(const Ctx&, row, col, product);
//       the value of node J inside a fused loop F (families that fuse into loops);
// Every function over a node takes the node's index, never its type: the
// type spells the node's whole subgraph, and so would each such function's
// symbol name, which g++ mangles at a cost quadratic in its length
// (compile/schedule_key.hpp). Sched::index<N> is a node's index, and
// operand_index<Sched, J, K> its K-th operand's.
//   template <class N, class T> static constexpr std::size_t loop_size / scratch_bytes
//       (defaults: N's size, and 0 bytes);
//   template <class N, class T, class Arch> static constexpr std::size_t scratch_bytes
//       (instead of the one above, when the need depends on the instruction set);
//   template <class Order, class N, class T> static constexpr std::size_t scratch_bytes_in
//       (instead of both, when it depends on the schedule's nodes, Order).

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/thread_pool.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>

namespace tapeless::detail {

// Multiply-adds below which a share of a kernel is not worth a thread: about
// 2 us of work, against the fraction of a microsecond a spinning worker
// takes to start and to report back (program.use_threads).
inline constexpr std::size_t min_work_per_share = std::size_t{1} << 17;
// Elements of an elementwise loop per share, at least: some microseconds of
// loads, arithmetic and stores (a ReLU derivative over 32K floats), so that
// only a CNN's activations, not a dense layer's, are split.
inline constexpr std::size_t min_loop_elements_per_share = std::size_t{1} << 15;
// The shares a loop over Elements elements may be split into: one per
// min_loop_elements_per_share of them (over_shares takes at most the pool's).
template <std::size_t Elements>
inline constexpr std::size_t loop_shares = std::max<std::size_t>(1, Elements / min_loop_elements_per_share);

// Calls f(first, last, share) for the shares of [0, n) (at most Shares, one
// per thread, each a run of whole items, share 0 on the calling thread) on
// the context's threads if it has some, else f(0, n, 0) here. Each item is
// computed by one share as it would be whole, so the results are one
// thread's. A worker calls f through the pool, outside the step's flattened
// function: an f whose body must be inlined says so itself (flatten).
// When it may be split, every path (one thread, the pool's caller, its
// workers) calls f through one function that is never inlined: each call
// inlined into a flattened kernel was a copy of f's loop to compile.
template <std::size_t Shares, class Ctx, class F>
TAPELESS_ALWAYS_INLINE inline void over_shares(const Ctx& c, std::size_t n, F&& f) noexcept {
  if constexpr (Shares > 1) {
    const bool threaded = c.threads != nullptr && c.threads->size() > 1;
    const std::size_t parts = threaded ? std::min(Shares, c.threads->size()) : 1;
    auto share = [&](std::size_t part, std::size_t) __attribute__((noinline)) {
      if (part < parts) f(n * part / parts, n * (part + 1) / parts, part);
    };
    if (threaded)
      c.threads->run(share);
    else
      share(0, 1);
  } else {
    f(std::size_t{0}, n, std::size_t{0});
  }
}

struct kernel_family_defaults {
  // No kernel: the value comes from outside the arena (store, binding, register).
  static constexpr bool leaf = false;
  // A leaf that is a number, not memory: read into a register inside loops.
  static constexpr bool in_register = false;
  // No kernel: its buffer is its first operand's, read in another shape.
  static constexpr bool view = false;
  // A view when every user reads its operands transposed in place, else a kernel.
  static constexpr bool view_when_read_transposed = false;
  // Reads an operand that is a transposed view where it lies.
  static constexpr bool reads_operands_transposed = false;
  // Computed element by element: runs inside its single consumer's loop when
  // that loop covers exactly its elements.
  static constexpr bool fuses_into_consumer = false;
  // Reads its own position (a mask's hash, a one-hot column): fuses only into
  // a loop over its own shape.
  static constexpr bool positional = false;
  // Its values may be computed in one flat row (no per-row state).
  static constexpr bool flat_loop_ok = true;
  // Its kernel is an elementwise loop over its own shape: it can host fused
  // operands and a product's epilogue.
  static constexpr bool elementwise_loop = false;
  // Its kernel loops over elements of its operands' shape and computes fused
  // operands inside (elementwise loops, reductions).
  static constexpr bool hosts_fused_operands = false;
  // Can hand its result, still in registers, to its single elementwise
  // consumer's loop run as its epilogue.
  static constexpr bool takes_epilogue = false;
  // Runs its epilogue image by image on its own working memory (a
  // convolution): a pooling of that loop's result can then run there too.
  static constexpr bool epilogue_by_image = false;
  // Can pool one image at a time of an operand handed over image by image
  // (pool_image): in a kernel with epilogue_by_image, after its epilogue.
  static constexpr bool pools_by_image = false;
  // Can apply an optimizer's update in its epilogue when it computes a
  // parameter's gradient (the gradient is then never stored).
  static constexpr bool takes_update = false;
  // A program output: writes the result or a parameter's gradient.
  static constexpr bool output = false;
  // Its kernel writes a whole buffer of its shape, so an output that is its
  // only user can have it write there directly (no copy).
  static constexpr bool writes_output_in_place = false;

  // Elements the kernel's loop runs over: N's size unless the family
  // defines loop_size<N, T>(). Working memory the kernel needs beside its
  // result: none unless it defines scratch_bytes<N, T>() (or
  // scratch_bytes<N, T, Arch>() when the need depends on the instruction
  // set, or scratch_bytes_in<Order, N, T>() when it depends on what the
  // schedule's other nodes read: logsumexp's softmax). Not defined here: a default here would be instantiated for every
  // node, each a function of external linkage whose name spells the node,
  // which g++ mangles (compile/schedule.hpp asks only the families that
  // define them).
  // Its scratch holds what a later kernel reads (max pooling's argmax for its
  // backward pass): it lives as long as the result, not for the kernel alone.
  static constexpr bool scratch_lives_with_result = false;
};

template <class Op>
struct operation_without_a_kernel : kernel_family_defaults {
  static_assert(always_false<Op>,
                "tapeless::compile: this operation has no kernel family; add one in compile/kernels/ "
                "(see docs/adding-an-op.md; the operation is named above)");
};

struct elementwise_family;


// The family of a node's operation. Elementwise operations default to the
// elementwise family; every other operation is claimed by its family's file.
template <class Op>
struct op_family {
  using type = std::conditional_t<std::is_base_of_v<elementwise_operation, Op>, elementwise_family,
                                  operation_without_a_kernel<Op>>;
};

// The family of any node: leaves are claimed in compile/kernels/leaf.hpp.
template <class N>
struct kernel_family_of;
template <class Op, class... Operands>
struct kernel_family_of<node<Op, Operands...>> {
  using type = typename op_family<Op>::type;
};

template <class N>
using family_of = typename kernel_family_of<N>::type;

// The type of node N's operand I.
template <class N, std::size_t I>
using operand_type = std::tuple_element_t<I, typename operands_of<N>::type::template apply<std::tuple>>;

// The node index of operand K of node J.
template <class Sched, std::size_t J, std::size_t K>
inline constexpr std::size_t operand_index =
    static_cast<std::size_t>(Sched::graph.edges[Sched::graph.nodes[J].first_operand + K]);

// Where operand K of node J is read from, for a kernel that reads it from
// memory (a convolution, a pooling, a norm): never a constant in a register.
template <class Sched, std::size_t J, std::size_t K, class Ctx>
const auto* operand_pointer(const Ctx& c) noexcept {
  constexpr std::size_t a = operand_index<Sched, J, K>;
  static_assert(!family_of<typename Sched::template node_at<a>>::in_register,
                "tapeless::compile: an operand of a convolution, pooling or norm simplified to a constant");
  return Sched::template pointer<a>(c);
}

// Where a view (a reshape, a transpose read in place) is read from: its
// operand's buffer.
template <class Sched, std::size_t J, class Ctx>
const auto* view_pointer(const Ctx& c) noexcept {
  constexpr std::size_t a = operand_index<Sched, J, 0>;
  static_assert(!family_of<typename Sched::template node_at<a>>::in_register,
                "tapeless::compile: a reshape or transpose of a constant is not supported; broadcast it instead");
  return Sched::template pointer<a>(c);
}

}  // namespace tapeless::detail
