#pragma once
// The static plan of a compiled program, computed while the user's code
// compiles: which nodes get a kernel of their own, which are fused into a
// consumer's loop, the order of the kernels, and where every buffer lives in
// one arena whose size is a constant.
//
// Fusion (DESIGN principle 4): an elementwise node is computed inside its
// consumer's loop, in registers, when it has exactly one use and that use is
// an elementwise node or a reduction over the same number of elements.
// Otherwise it is materialized: it has several uses (computing it once costs
// one pass; computing it per use could cost more, and a chain of shared nodes
// would grow the code exponentially), its consumer is a matmul or gather
// (which read memory), or it is smaller than its consumer (broadcast: it would
// be recomputed for every row).
//
// Memory: a buffer lives from the kernel that writes it to the last kernel
// that reads it (through views too); buffers whose lives do not overlap share
// bytes, placed first-fit at 64-byte boundaries.

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/dropout.hpp>
#include <tapeless/expr/gather.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

// Where a program's result goes: Index 0 is the program's own output (the
// loss, or the predicted tensor); Index i > 0 the gradient of parameter i - 1.
// An elementwise identity, so the expression it wraps fuses into its kernel.
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

enum class node_kind : unsigned char {
  parameter,    // a param symbol: read from the parameter store
  input,        // an input or var symbol: read from a binding
  constant,     // an exact or run-time constant: a register
  elementwise,  // fused into a loop
  one_hot,      // elementwise, from integer labels
  dropout,      // elementwise, reads its position (the mask's hash)
  reshape,      // a view of its operand's buffer
  transpose,    // a view for matmul, else a copy kernel
  matmul,
  reduce,
  gather,
  copy,         // slice, pad, concat: runs of memory copied
  output,
};

template <class Op>
inline constexpr bool is_output_op = false;
template <std::size_t I, class S>
inline constexpr bool is_output_op<output_op<I, S>> = true;
template <class Op>
inline constexpr bool is_one_hot_op = false;
template <std::size_t B, std::size_t C>
inline constexpr bool is_one_hot_op<one_hot_op<B, C>> = true;
template <class Op>
inline constexpr bool is_dropout_op = false;
template <std::uint64_t S, double P>
inline constexpr bool is_dropout_op<dropout_op<S, P>> = true;
template <class Op>
inline constexpr bool is_reshape_op = false;
template <class F, class T>
inline constexpr bool is_reshape_op<reshape_op<F, T>> = true;
template <class Op>
inline constexpr bool is_transpose_op = false;
template <std::size_t R, std::size_t C>
inline constexpr bool is_transpose_op<transpose_op<R, C>> = true;
template <class Op>
inline constexpr bool is_matmul_op = false;
template <std::size_t M, std::size_t K, std::size_t N>
inline constexpr bool is_matmul_op<matmul_op<M, K, N>> = true;
template <class Op>
inline constexpr bool is_reduce_op = false;
template <class K, class I, class O>
inline constexpr bool is_reduce_op<reduce_op<K, I, O>> = true;
template <class Op>
inline constexpr bool is_copy_op = false;
template <class I, std::size_t A, std::size_t B, std::size_t E>
inline constexpr bool is_copy_op<slice_op<I, A, B, E>> = true;
template <class F, std::size_t A, std::size_t B>
inline constexpr bool is_copy_op<pad_op<F, A, B>> = true;
template <class SA, class SB, std::size_t A>
inline constexpr bool is_copy_op<concat_op<SA, SB, A>> = true;
template <class Op>
inline constexpr bool is_gather_op = false;
template <std::size_t B, std::size_t C>
inline constexpr bool is_gather_op<gather_op<B, C>> = true;

template <class Op>
struct operation_without_a_kernel {
  static_assert(always_false<Op>,
                "tapeless::compile: this operation has no kernel in compile/ yet (see the "
                "operation above)");
  static constexpr node_kind kind = node_kind::elementwise;
};

template <class N>
constexpr node_kind kind_of() {
  if constexpr (is_symbol<N>)
    return N::kind == symbol_kind::parameter ? node_kind::parameter : node_kind::input;
  else if constexpr (!is_node<N>)
    return node_kind::constant;
  else {
    using Op = typename N::operation;
    if constexpr (is_output_op<Op>)
      return node_kind::output;
    else if constexpr (is_one_hot_op<Op>)
      return node_kind::one_hot;
    else if constexpr (is_dropout_op<Op>)
      return node_kind::dropout;
    else if constexpr (is_reshape_op<Op>)
      return node_kind::reshape;
    else if constexpr (is_transpose_op<Op>)
      return node_kind::transpose;
    else if constexpr (is_matmul_op<Op>)
      return node_kind::matmul;
    else if constexpr (is_reduce_op<Op>)
      return node_kind::reduce;
    else if constexpr (is_gather_op<Op>)
      return node_kind::gather;
    else if constexpr (is_copy_op<Op>)
      return node_kind::copy;
    else if constexpr (std::is_base_of_v<elementwise_operation, Op>)
      return node_kind::elementwise;
    else
      return operation_without_a_kernel<Op>::kind;
  }
}

// Elements a node's loop runs over: a reduction runs over its operand's shape.
template <class N>
constexpr std::size_t loop_size() {
  if constexpr (kind_of<N>() == node_kind::reduce)
    return N::operation::input_shape::size;
  else
    return shape_of<N>::size;
}

template <class N, class Order>
constexpr std::array<int, 2> operand_indices() {
  if constexpr (is_node<N>)
    return []<class... Operands>(type_list<Operands...>) {
      std::array<int, 2> result{-1, -1};
      int at = 0;
      ((result[at++] = static_cast<int>(index_of_v<Operands, Order>)), ...);
      return result;
    }(typename operands_of<N>::type{});
  else
    return {-1, -1};
}

// Is the shape of N exactly S (the dimensions, not only the element count)?
template <class N, class S>
constexpr bool has_shape() {
  return std::is_same_v<shape_of<N>, S>;
}

// What the plan needs to know of one node.
struct node_facts {
  node_kind kind{};
  std::array<int, 2> operands{-1, -1};
  std::size_t size = 0;          // elements of its own shape
  std::size_t columns = 1;       // its last dimension
  std::size_t loop_size = 0;     // elements its kernel's loop visits
  std::size_t bytes = 0;         // its buffer, if it has one
  std::size_t scratch_bytes = 0; // a second buffer its kernel needs (logsumexp)
  bool exact_shape_of_loop = false;  // one_hot may fuse only into a loop of its own shape
};

template <class N, class Order, class T>
constexpr node_facts facts_of() {
  node_facts f;
  f.kind = kind_of<N>();
  f.operands = operand_indices<N, Order>();
  f.size = shape_of<N>::size;
  if constexpr (shape_of<N>::rank > 0) f.columns = shape_of<N>::dims[shape_of<N>::rank - 1];
  f.loop_size = loop_size<N>();
  f.bytes = f.size * sizeof(T);
  if constexpr (kind_of<N>() == node_kind::reduce) {
    if constexpr (std::is_same_v<typename N::operation::kind, logsumexp_reduction>)
      f.scratch_bytes = f.size * sizeof(T);
  }
  return f;
}

inline constexpr std::size_t buffer_alignment = 64;

constexpr std::size_t align_up(std::size_t n) {
  return (n + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
}

template <std::size_t N>
struct program_plan {
  std::array<bool, N> root{};            // has a kernel of its own
  std::array<int, N> owner{};            // the root whose loop computes it, or -1
  std::array<bool, N> transpose_view{};  // a transpose read in place by matmuls
  std::array<bool, N> external{};        // root writing straight into an output's destination
  std::array<int, N> redirect{};         // ... namely that output node's
  std::array<int, N> epilogue_of{};      // a root computed in the epilogue of this matmul, or -1
  std::array<int, N> position{};         // kernel position of a root
  std::array<int, N> schedule{};         // node index of the kernel at each position
  std::array<std::size_t, N> offset{};   // buffer's bytes into the arena
  std::array<std::size_t, N> scratch_offset{};
  std::array<int, N> last_read{};        // the last kernel position that reads its value
  std::array<bool, N> in_arena{};
  std::size_t kernel_count = 0;
  std::size_t arena_bytes = 0;
  std::size_t fused_nodes = 0;           // computed inside another node's loop
};

template <std::size_t N>
constexpr program_plan<N> make_plan(const std::array<node_facts, N>& f) {
  program_plan<N> plan{};
  std::array<int, N> uses{}, user{};
  std::array<bool, N> only_matmul_users{};
  for (std::size_t i = 0; i < N; ++i) only_matmul_users[i] = true;
  for (std::size_t j = 0; j < N; ++j)
    for (int k : f[j].operands)
      if (k >= 0) {
        ++uses[k];
        user[k] = static_cast<int>(j);
        if (f[j].kind != node_kind::matmul) only_matmul_users[k] = false;
      }

  // Consumers before producers, so a node knows its user's kernel.
  for (std::size_t i = 0; i < N; ++i) plan.epilogue_of[i] = -1;
  for (std::size_t r = N; r-- > 0;) {
    plan.owner[r] = -1;
    switch (f[r].kind) {
      case node_kind::parameter:
      case node_kind::input:
      case node_kind::constant:
      case node_kind::reshape:
        break;
      case node_kind::transpose:
        if (only_matmul_users[r] && uses[r] > 0)
          plan.transpose_view[r] = true;
        else
          plan.root[r] = true;
        break;
      case node_kind::matmul: {
        // A matmul whose one user is an elementwise loop over the same [M, N]
        // becomes that loop's GEMM: the loop runs as the GEMM's epilogue, on
        // the product while it is still in registers (bias, activation).
        if (uses[r] == 1 && !plan.external[r]) {
          const int p = user[r];
          const int kernel = plan.owner[p];
          const bool elementwise_user = f[p].kind == node_kind::elementwise || f[p].kind == node_kind::output ||
                                        f[p].kind == node_kind::dropout;
          if (elementwise_user && kernel >= 0 && plan.epilogue_of[kernel] < 0 &&
              (f[kernel].kind == node_kind::elementwise || f[kernel].kind == node_kind::output ||
               f[kernel].kind == node_kind::dropout) &&
              f[kernel].size == f[r].size && f[kernel].columns == f[r].columns) {
            plan.owner[r] = kernel;
            plan.epilogue_of[kernel] = static_cast<int>(r);
            break;
          }
        }
        plan.root[r] = true;
        break;
      }
      case node_kind::reduce:
      case node_kind::gather:
      case node_kind::copy:
        plan.root[r] = true;
        break;
      case node_kind::output: {
        // The wrapped value writes straight into the output's destination
        // when nothing else reads it and it has its own kernel anyway.
        const int a = f[r].operands[0];
        const node_kind ak = f[a].kind;
        const bool kernel_anyway = ak == node_kind::matmul || ak == node_kind::reduce ||
                                   ak == node_kind::gather || ak == node_kind::copy ||
                                   (ak == node_kind::transpose && !only_matmul_users[a]);
        if (kernel_anyway && uses[a] == 1 && f[a].size == f[r].size)
          plan.external[a] = true, plan.redirect[a] = static_cast<int>(r);
        else
          plan.root[r] = true;
        break;
      }
      case node_kind::elementwise:
      case node_kind::dropout:
      case node_kind::one_hot: {
        bool fused = false;
        if (uses[r] == 1) {
          const int p = user[r];
          const node_kind pk = f[p].kind;
          const int kernel = plan.owner[p];
          if (kernel >= 0 && (pk == node_kind::elementwise || pk == node_kind::output ||
                              pk == node_kind::dropout || pk == node_kind::reduce)) {
            const std::size_t loop = pk == node_kind::reduce ? f[p].loop_size : f[kernel].loop_size;
            // one_hot and dropout read their position: only in a loop over their own shape.
            const bool positional = f[r].kind == node_kind::one_hot || f[r].kind == node_kind::dropout;
            fused = f[r].size == loop && (!positional || (f[p].size == f[r].size && f[kernel].columns == f[r].columns));
          }
          if (fused) plan.owner[r] = plan.owner[p];
        }
        if (!fused) plan.root[r] = true;
        break;
      }
    }
    if (plan.root[r]) plan.owner[r] = static_cast<int>(r);
  }

  for (std::size_t i = 0; i < N; ++i) {
    if (plan.root[i]) {
      plan.position[i] = static_cast<int>(plan.kernel_count);
      plan.schedule[plan.kernel_count++] = static_cast<int>(i);
    } else if (plan.owner[i] >= 0) {
      ++plan.fused_nodes;
    }
  }

  // The last kernel position that reads node i's buffer, through views.
  std::array<int, N>& last_read = plan.last_read;
  const int end_of_program = static_cast<int>(plan.kernel_count);
  for (std::size_t r = N; r-- > 0;) {
    if (f[r].kind == node_kind::output) last_read[r] = end_of_program;
    for (int k : f[r].operands) {
      if (k < 0) continue;
      const bool view = f[r].kind == node_kind::reshape || plan.transpose_view[r] ||
                        (f[r].kind == node_kind::output && !plan.root[r]);
      const int reader = view ? last_read[r] : plan.position[plan.owner[r]];
      if (reader > last_read[k]) last_read[k] = reader;
    }
  }

  // First fit: lowest offset clear of every placed buffer alive at the same time.
  std::array<std::size_t, N> begin{}, end{}, lo{}, hi{};
  std::size_t placed = 0;
  auto place = [&](std::size_t bytes, int from, int to) {
    std::size_t at = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t b = 0; b < placed; ++b) {
        const bool alive_together = static_cast<int>(begin[b]) <= to && from <= static_cast<int>(end[b]);
        if (alive_together && at < hi[b] && lo[b] < at + bytes) {
          at = hi[b];
          moved = true;
        }
      }
    }
    begin[placed] = static_cast<std::size_t>(from);
    end[placed] = static_cast<std::size_t>(to);
    lo[placed] = at;
    hi[placed] = at + align_up(bytes);
    ++placed;
    if (at + align_up(bytes) > plan.arena_bytes) plan.arena_bytes = at + align_up(bytes);
    return at;
  };
  for (std::size_t k = 0; k < plan.kernel_count; ++k) {
    const int i = plan.schedule[k];
    const int pos = static_cast<int>(k);
    if (f[i].kind != node_kind::output && !plan.external[i]) {
      plan.in_arena[i] = true;
      plan.offset[i] = place(f[i].bytes, pos, last_read[i] > pos ? last_read[i] : pos);
    }
    if (f[i].scratch_bytes > 0) plan.scratch_offset[i] = place(f[i].scratch_bytes, pos, pos);
  }
  return plan;
}

}  // namespace detail

}  // namespace tapeless
