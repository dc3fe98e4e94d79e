#pragma once
// The static plan of a compiled program, computed while the user's code
// compiles, as five passes over the graph's facts (each a constexpr function,
// tested alone in tests/compile/plan_passes.cpp):
//
//   count_uses     how many nodes read each node, and who;
//   assign_owners  which nodes get a kernel of their own (roots) and which are
//                  computed inside another's loop (fusion), views, outputs
//                  written in place, products run with an epilogue, poolings
//                  run image by image in a convolution's kernel;
//   order_kernels  the kernels in topological order;
//   hoist_gradients each gradient's kernel moved up to just after what it
//                  needs: the layers nearest the loss first;
//   liveness       the last kernel that reads each buffer (through views);
//   place_buffers  where each buffer lives in one arena of constant size;
//
// and kernels_needed, the kernels some nodes need alone (a training
// program's forward call).
//
// Fusion (DESIGN principle 4): a node computed element by element runs inside
// its consumer's loop, in registers, when it has exactly one use and that
// loop covers the same number of elements. Otherwise it is materialized: it
// has several uses (computing it once costs one pass; per use could cost
// more, and a chain of shared nodes would grow the code exponentially), its
// consumer reads memory (a GEMM, a gather), or it is smaller than the loop
// (broadcast: it would be recomputed for every row).
//
// Memory: a buffer lives from the kernel that writes it to the last kernel
// that reads it (a scratch area for its kernel alone, or as long as the
// result when later kernels read it: max pooling's argmax); buffers whose lives do not overlap share bytes, placed
// first-fit at buffer_alignment boundaries.
//
// The passes read families only through the facts (compile/kernels/family.hpp);
// they never name one.

#include <array>
#include <cstddef>

#include <tapeless/core/storage.hpp>

namespace tapeless::detail {

// What the planner knows of one node: its family's facts and its sizes.
struct node_facts {
  bool leaf = false, in_register = false, view = false, view_when_read_transposed = false;
  bool reads_operands_transposed = false, fuses_into_consumer = false, positional = false;
  bool elementwise_loop = false, hosts_fused_operands = false, takes_epilogue = false;
  bool takes_update = false, output = false, writes_output_in_place = false;
  bool epilogue_by_image = false, pools_by_image = false;
  bool scratch_lives_with_result = false;  // its scratch is read by later kernels
  std::size_t size = 0;           // elements of its own shape
  std::size_t columns = 1;        // its last dimension
  std::size_t loop_size = 0;      // elements its kernel's loop visits
  std::size_t bytes = 0;          // its buffer, if it has one
  std::size_t scratch_bytes = 0;  // working memory its kernel needs besides
  std::size_t first_operand = 0;  // its operands: edges[first_operand, + operand_count)
  std::size_t operand_count = 0;
  std::size_t output_index = 0;   // an output's: 0 the program's value, i the gradient of parameter i - 1
  std::size_t parameter_index = 0;  // a leaf that is parameter i - 1 of the program; 0 for any other node
};

// A graph of N nodes in topological order with E operand edges in all (any
// number per node). Edges name operand node indices.
template <std::size_t N, std::size_t E>
struct graph_facts {
  std::array<node_facts, N> nodes{};
  std::array<int, (E == 0 ? 1 : E)> edges{};

  template <class F>
  constexpr void for_operands(std::size_t node, F&& f) const {
    for (std::size_t e = 0; e < nodes[node].operand_count; ++e) f(edges[nodes[node].first_operand + e]);
  }
  constexpr int operand(std::size_t node, std::size_t position) const {
    return edges[nodes[node].first_operand + position];
  }
};

// Pass 1.
template <std::size_t N>
struct use_counts {
  std::array<int, N> uses{};
  std::array<int, N> user{};                   // the last user met (the only one when uses == 1)
  std::array<bool, N> only_read_transposed{};  // every user reads its operands transposed
};

template <std::size_t N, std::size_t E>
constexpr use_counts<N> count_uses(const graph_facts<N, E>& g) {
  use_counts<N> u{};
  for (std::size_t i = 0; i < N; ++i) u.only_read_transposed[i] = true;
  for (std::size_t j = 0; j < N; ++j)
    g.for_operands(j, [&](int k) {
      ++u.uses[k];
      u.user[k] = static_cast<int>(j);
      if (!g.nodes[j].reads_operands_transposed) u.only_read_transposed[k] = false;
    });
  return u;
}

// Pass 2.
template <std::size_t N>
struct ownership {
  std::array<bool, N> root{};            // has a kernel of its own
  std::array<int, N> owner{};            // the root whose kernel computes it, or -1
  std::array<bool, N> transpose_view{};  // read transposed where it lies
  std::array<bool, N> external{};        // a root writing straight into an output's destination
  std::array<int, N> redirect{};         // ... namely that output node's
  std::array<int, N> epilogue_of{};      // for a root: the node whose kernel runs this root's loop as its epilogue, or -1
  std::array<int, N> pooled_by{};        // for a root run as a product's epilogue: the pooling its kernel runs too, or -1
  std::array<bool, N> unstored{};        // such a root whose pooling is its only reader: no buffer of its own
};

template <std::size_t N, std::size_t E>
constexpr ownership<N> assign_owners(const graph_facts<N, E>& g, const use_counts<N>& u) {
  ownership<N> o{};
  const auto& f = g.nodes;
  for (std::size_t i = 0; i < N; ++i) o.epilogue_of[i] = -1, o.redirect[i] = -1, o.pooled_by[i] = -1;
  // Consumers before producers, so that a node knows its user's kernel.
  for (std::size_t r = N; r-- > 0;) {
    o.owner[r] = -1;
    const node_facts& n = f[r];
    if (n.leaf || n.view) {
      // no kernel
    } else if (n.view_when_read_transposed && u.uses[r] > 0 && u.only_read_transposed[r]) {
      o.transpose_view[r] = true;
    } else if (n.output) {
      // The value writes straight into the output's destination when nothing
      // else reads it and it has a kernel writing a whole buffer anyway.
      const int a = g.operand(r, 0);
      const bool in_place = f[a].writes_output_in_place &&
                            !(f[a].view_when_read_transposed && u.only_read_transposed[a]);
      if (in_place && u.uses[a] == 1 && f[a].size == n.size)
        o.external[a] = true, o.redirect[a] = static_cast<int>(r);
      else
        o.root[r] = true;
    } else if (n.takes_epilogue) {
      // Its one consumer's elementwise loop over the same [rows, columns] runs
      // as its epilogue, on the result while it is in registers.
      bool fused = false;
      if (u.uses[r] == 1 && !o.external[r]) {
        const int p = u.user[r];
        const int kernel = o.owner[p];
        fused = f[p].elementwise_loop && kernel >= 0 && f[kernel].elementwise_loop &&
                o.epilogue_of[kernel] < 0 && f[kernel].size == n.size && f[kernel].columns == n.columns;
        if (fused) o.owner[r] = kernel, o.epilogue_of[kernel] = static_cast<int>(r);
      }
      if (!fused) o.root[r] = true;
    } else if (n.fuses_into_consumer) {
      bool fused = false;
      if (u.uses[r] == 1) {
        const int p = u.user[r];
        const int kernel = o.owner[p];
        if (kernel >= 0 && f[p].hosts_fused_operands) {
          const bool same_loop = n.size == f[kernel].loop_size;
          const bool own_shape = f[p].size == n.size && f[kernel].columns == n.columns;
          fused = same_loop && (!n.positional || own_shape);
        }
        if (fused) o.owner[r] = o.owner[p];
      }
      if (!fused) o.root[r] = true;
    } else {
      o.root[r] = true;
    }
    if (o.root[r]) o.owner[r] = static_cast<int>(r);
  }
  // A pooling of a loop run image by image as a product's epilogue (a
  // convolution's bias, batch norm and activation) runs in that kernel too,
  // on each image while it is in cache, split between threads as the
  // product is. When nothing else reads the loop's result (a forward-only
  // program) it is never stored; else (its derivative reads it) it is
  // stored as before and pooled from where it was just written.
  for (std::size_t p = 0; p < N; ++p) {
    if (!o.root[p] || !f[p].pools_by_image || f[p].operand_count == 0) continue;
    const int e = g.operand(p, 0);
    const int producer = o.epilogue_of[e];
    if (o.root[e] && !o.external[e] && o.pooled_by[e] < 0 && producer >= 0 && f[producer].epilogue_by_image)
      o.root[p] = false, o.owner[p] = e, o.pooled_by[e] = static_cast<int>(p), o.unstored[e] = u.uses[e] == 1;
  }
  return o;
}

// Pass 3.
template <std::size_t N>
struct kernel_order {
  std::array<int, N> position{};  // kernel position of a root
  std::array<int, N> schedule{};  // node index of the kernel at each position
  std::size_t kernel_count = 0;
  std::size_t fused_nodes = 0;    // computed inside another node's kernel
};

// A pooling run in its operand's kernel is written where that kernel runs.
template <std::size_t N>
constexpr void position_poolings(const ownership<N>& o, kernel_order<N>& k) {
  for (std::size_t i = 0; i < N; ++i)
    if (o.pooled_by[i] >= 0) k.position[o.pooled_by[i]] = k.position[i];
}

template <std::size_t N>
constexpr kernel_order<N> order_kernels(const ownership<N>& o) {
  kernel_order<N> k{};
  for (std::size_t i = 0; i < N; ++i) {
    if (o.root[i]) {
      k.position[i] = static_cast<int>(k.kernel_count);
      k.schedule[k.kernel_count++] = static_cast<int>(i);
    } else if (o.owner[i] >= 0) {
      ++k.fused_nodes;
    }
  }
  position_poolings(o, k);
  return k;
}

// For each node, the node whose kernel writes its values: for an output
// written straight by its operand (ownership::external), that operand; for
// every other node, itself.
template <std::size_t N>
constexpr std::array<int, N> output_writers(const ownership<N>& o) {
  std::array<int, N> writer{};
  for (std::size_t r = 0; r < N; ++r) writer[r] = static_cast<int>(r);
  for (std::size_t a = 0; a < N; ++a)
    if (o.external[a]) writer[static_cast<std::size_t>(o.redirect[a])] = static_cast<int>(a);
  return writer;
}

// Pass 3b. In node order a training program's gradients come after the
// whole backward pass: the parameters are found from the input's layer
// outwards, and each gradient's nodes follow those of the gradients before
// it, so the first layer's gradient pulls in every layer's backward pass
// and the other gradients' kernels wait at the end. Each kernel writing a
// gradient (the node writing straight into an output i >= 1, or that
// output's own kernel) moves up to just after the last kernel it reads
// from and the last kernel reading its parameter's value (an update fused
// into it must follow every read, as at the end), keeping the order of the
// rest. Nothing reads a gradient, so nothing depends on the kernels moved.
// Then the layers nearest the loss have their gradients first, while the
// backward pass goes on: what tl::dist's overlapped reduction sends while
// the rest runs, and each weight gradient runs while its operands are
// still in cache.
template <std::size_t N, std::size_t E>
constexpr kernel_order<N> hoist_gradients(const graph_facts<N, E>& g, const ownership<N>& o, kernel_order<N> k) {
  const auto& f = g.nodes;
  // Nodes read where another node's values lie: views, and outputs written by their operand.
  auto passes_through = [&](std::size_t a) {
    return o.owner[a] < 0 && (f[a].view || o.transpose_view[a] || (f[a].output && !o.root[a]));
  };
  // source[a]: the node whose values node a reads as its own (itself, or
  // through views of one operand). One pass, operands before their users;
  // it spares the search below a walk through views per operand and
  // gradient (constexpr calls cost the compiler more than loops).
  std::array<int, N> source{};
  std::array<int, N + 1> leaf_of{};  // parameter i - 1's leaf, or -1
  leaf_of.fill(-1);
  for (std::size_t a = 0; a < N; ++a) {
    source[a] = passes_through(a) && f[a].operand_count == 1 ? source[static_cast<std::size_t>(g.operand(a, 0))]
                                                             : static_cast<int>(a);
    if (f[a].parameter_index != 0 && f[a].parameter_index <= N) leaf_of[f[a].parameter_index] = static_cast<int>(a);
  }
  // For a view of several operands (rare): visit(kernel) for each kernel
  // whose buffer it reads; does it read leaf's values?
  auto producers = [&](auto& self, std::size_t a, auto& visit) -> void {
    for (std::size_t e = 0; e < f[a].operand_count; ++e) {
      const auto b = static_cast<std::size_t>(source[static_cast<std::size_t>(g.operand(a, e))]);
      if (o.owner[b] >= 0)
        visit(o.owner[b]);
      else if (passes_through(b))
        self(self, b, visit);
    }
  };
  auto reads = [&](auto& self, std::size_t a, int leaf) -> bool {
    for (std::size_t e = 0; e < f[a].operand_count; ++e) {
      const auto b = static_cast<std::size_t>(source[static_cast<std::size_t>(g.operand(a, e))]);
      if (static_cast<int>(b) == leaf || (passes_through(b) && self(self, b, leaf))) return true;
    }
    return false;
  };
  const std::array<int, N> writer = output_writers(o);
  for (std::size_t r = 0; r < N; ++r) {
    // Gradients only: not the program's value (0) nor a step output (the largest index).
    if (!f[r].output || f[r].output_index == 0 || f[r].output_index == ~std::size_t{0}) continue;
    const int kernel = o.owner[static_cast<std::size_t>(writer[r])];
    if (kernel < 0) continue;
    const int leaf = f[r].output_index <= N ? leaf_of[f[r].output_index] : -1;
    int earliest = 0;
    auto after = [&](int q) {
      if (q != kernel && k.position[static_cast<std::size_t>(q)] + 1 > earliest)
        earliest = k.position[static_cast<std::size_t>(q)] + 1;
    };
    for (std::size_t n = 0; n < N; ++n) {
      const int owner = o.owner[n];
      if (owner < 0) continue;
      for (std::size_t e = 0; e < f[n].operand_count; ++e) {
        const auto a = static_cast<std::size_t>(source[static_cast<std::size_t>(g.operand(n, e))]);
        if (owner == kernel) {  // what the kernel reads
          if (o.owner[a] >= 0)
            after(o.owner[a]);
          else if (passes_through(a))
            producers(producers, a, after);
        }
        // Who reads the parameter's value.
        if (static_cast<int>(a) == leaf || (leaf >= 0 && passes_through(a) && reads(reads, a, leaf))) after(owner);
      }
    }
    const int at = k.position[static_cast<std::size_t>(kernel)];
    if (earliest >= at) continue;
    for (int p = at; p > earliest; --p) k.schedule[static_cast<std::size_t>(p)] = k.schedule[static_cast<std::size_t>(p - 1)];
    k.schedule[static_cast<std::size_t>(earliest)] = kernel;
    for (std::size_t p = 0; p < k.kernel_count; ++p) k.position[static_cast<std::size_t>(k.schedule[p])] = static_cast<int>(p);
  }
  position_poolings(o, k);
  return k;
}

// Pass 4: the last kernel position that reads each node's buffer, through
// views; an output's buffer is read at the end of the program.
template <std::size_t N, std::size_t E>
constexpr std::array<int, N> liveness(const graph_facts<N, E>& g, const ownership<N>& o,
                                      const kernel_order<N>& k) {
  std::array<int, N> last_read{};
  const int end_of_program = static_cast<int>(k.kernel_count);
  for (std::size_t r = N; r-- > 0;) {
    const node_facts& n = g.nodes[r];
    if (n.output) last_read[r] = end_of_program;
    const bool passes_through = n.view || o.transpose_view[r] || (n.output && !o.root[r]);
    const int reader = passes_through ? last_read[r] : (o.owner[r] >= 0 ? k.position[o.owner[r]] : -1);
    g.for_operands(r, [&](int a) {
      if (reader > last_read[a]) last_read[a] = reader;
    });
  }
  return last_read;
}

// Pass 5.
template <std::size_t N>
struct buffer_plan {
  std::array<std::size_t, N> offset{};  // bytes into the arena
  std::array<std::size_t, N> scratch_offset{};
  std::array<bool, N> in_arena{};
  std::size_t arena_bytes = 0;
};

// First fit: each buffer at the lowest offset clear of every placed buffer
// alive at the same time.
template <std::size_t N, std::size_t E>
constexpr buffer_plan<N> place_buffers(const graph_facts<N, E>& g, const ownership<N>& o,
                                       const kernel_order<N>& k, const std::array<int, N>& last_read) {
  buffer_plan<N> p{};
  std::array<std::size_t, 2 * N> lo{}, hi{};
  std::array<int, 2 * N> begin{}, end{};
  std::size_t placed = 0;
  auto place = [&](std::size_t bytes, int from, int to) {
    std::size_t at = 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t b = 0; b < placed; ++b) {
        const bool alive_together = begin[b] <= to && from <= end[b];
        if (alive_together && at < hi[b] && lo[b] < at + bytes) at = hi[b], moved = true;
      }
    }
    begin[placed] = from, end[placed] = to, lo[placed] = at, hi[placed] = at + align_up(bytes);
    ++placed;
    if (at + align_up(bytes) > p.arena_bytes) p.arena_bytes = at + align_up(bytes);
    return at;
  };
  for (std::size_t position = 0; position < k.kernel_count; ++position) {
    const int i = k.schedule[position];
    const int at = static_cast<int>(position);
    // This kernel's result, and that of a pooling it runs too.
    for (const int r : {i, o.pooled_by[i]}) {
      if (r < 0) continue;
      if (!g.nodes[r].output && !o.external[r] && !o.unstored[r]) {
        p.in_arena[r] = true;
        p.offset[r] = place(g.nodes[r].bytes, at, last_read[r] > at ? last_read[r] : at);
      }
      if (g.nodes[r].scratch_bytes > 0) {
        const int until = g.nodes[r].scratch_lives_with_result && last_read[r] > at ? last_read[r] : at;
        p.scratch_offset[r] = place(g.nodes[r].scratch_bytes, at, until);
      }
    }
    // A product run with this kernel's loop as its epilogue works inside this kernel.
    if (const int e = o.epilogue_of[i]; e >= 0 && g.nodes[e].scratch_bytes > 0)
      p.scratch_offset[e] = place(g.nodes[e].scratch_bytes, at, at);
  }
  return p;
}

// The passes together: what a schedule reads.
template <std::size_t N>
struct program_plan : ownership<N>, kernel_order<N>, buffer_plan<N> {
  std::array<int, N> last_read{};
};

template <std::size_t N, std::size_t E>
constexpr program_plan<N> make_plan(const graph_facts<N, E>& g) {
  const use_counts<N> uses = count_uses(g);
  const ownership<N> owners = assign_owners(g, uses);
  const kernel_order<N> order = hoist_gradients(g, owners, order_kernels(owners));
  const std::array<int, N> last_read = liveness(g, owners, order);
  return {owners, order, place_buffers(g, owners, order, last_read), last_read};
}

// For each of P parameters, the position of the kernel that writes its
// gradient into the store (its output node's kernel, or the kernel of the
// node that writes straight into that output's destination), or -1 where no
// kernel does. No kernel reads or writes that memory afterwards, so a step's
// observer may send a gradient away from there on (tl::dist's reduction
// overlapped with the backward pass).
template <std::size_t P, std::size_t N, std::size_t E>
constexpr std::array<int, (P == 0 ? 1 : P)> gradient_positions(const graph_facts<N, E>& g,
                                                               const program_plan<N>& p) {
  std::array<int, (P == 0 ? 1 : P)> at{};
  at.fill(-1);
  const std::array<int, N> writer = output_writers<N>(p);
  for (std::size_t r = 0; r < N; ++r) {
    const std::size_t out = g.nodes[r].output_index;
    if (!g.nodes[r].output || out == 0 || out > P) continue;
    const int kernel = p.owner[static_cast<std::size_t>(writer[r])];
    if (kernel >= 0) at[out - 1] = p.position[static_cast<std::size_t>(kernel)];
  }
  return at;
}

// The kernels that computing some nodes needs, in schedule order: the kernels
// computing them and, through operands, whatever they read, with everything
// else those kernels compute too (so that no kernel run reads a buffer that
// no kernel wrote). A training program's forward call runs these
// (compile/program.hpp). Buffers stay where the whole plan put them.
template <std::size_t N>
struct kernel_subset {
  std::array<int, N> schedule{};  // node index of each kernel run
  std::size_t kernel_count = 0;
};

template <std::size_t N, std::size_t E, std::size_t W>
constexpr kernel_subset<N> kernels_needed(const graph_facts<N, E>& g, const program_plan<N>& p,
                                          const std::array<int, W>& wanted) {
  std::array<bool, N> node{}, kernel{};
  for (const int w : wanted) node[w] = true;
  for (bool grew = true; grew;) {
    grew = false;
    // Consumers before producers: one sweep reaches every operand.
    for (std::size_t r = N; r-- > 0;) {
      if (!node[r]) continue;
      g.for_operands(r, [&](int a) { node[a] = true; });
      if (p.owner[r] >= 0) kernel[p.owner[r]] = true;
    }
    for (std::size_t n = 0; n < N; ++n)
      if (p.owner[n] >= 0 && kernel[p.owner[n]] && !node[n]) node[n] = grew = true;
  }
  kernel_subset<N> s{};
  for (std::size_t k = 0; k < p.kernel_count; ++k)
    if (kernel[p.schedule[k]]) s.schedule[s.kernel_count++] = p.schedule[k];
  return s;
}

}  // namespace tapeless::detail
