#pragma once
// The schedule of one plan: the node list in topological order, its facts,
// the plan (compile/plan.hpp), and how the kernels find their operands and
// destinations. Outputs: node output_op<0>'s destination is the program's
// result; output_op<i> (i > 0) writes the gradient of the (i - 1)-th of Params.

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/sanitized_build.hpp>
#include <tapeless/compile/kernels.hpp>
#include <tapeless/compile/plan.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/compile/schedule_key.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/evaluate.hpp>

namespace tapeless::detail {

// In an unnamed namespace, as the schedule's key (compile/schedule_key.hpp):
// these run once per schedule at compile time, over its whole node list,
// and an instantiation of external linkage would have g++ mangle a name
// spelling that list for each of them and each of their lambdas.
namespace {

// A node's facts, as its family states them (Order: every node of the
// schedule, for a family whose scratch depends on what other nodes read).
template <class N, class T, class Arch, class Order>
constexpr node_facts facts_of(std::size_t first_operand) {
  using F = family_of<N>;
  node_facts f;
  f.leaf = F::leaf, f.in_register = F::in_register, f.view = F::view;
  f.view_when_read_transposed = F::view_when_read_transposed;
  f.reads_operands_transposed = F::reads_operands_transposed;
  f.fuses_into_consumer = F::fuses_into_consumer, f.positional = F::positional;
  f.elementwise_loop = F::elementwise_loop, f.hosts_fused_operands = F::hosts_fused_operands;
  f.takes_epilogue = F::takes_epilogue, f.takes_update = F::takes_update, f.output = F::output;
  f.epilogue_by_image = F::epilogue_by_image, f.pools_by_image = F::pools_by_image;
  f.writes_output_in_place = F::writes_output_in_place;
  f.size = shape_of<N>::size;
  if constexpr (shape_of<N>::rank > 0) f.columns = shape_of<N>::dims[shape_of<N>::rank - 1];
  if constexpr (requires { F::template loop_size<N, T>(); })
    f.loop_size = F::template loop_size<N, T>();
  else
    f.loop_size = shape_of<N>::size;
  f.bytes = f.size * sizeof(T);
  if constexpr (requires { F::template scratch_bytes_in<Order, N, T>(); })
    f.scratch_bytes = F::template scratch_bytes_in<Order, N, T>();
  else if constexpr (requires { F::template scratch_bytes<N, T, Arch>(); })
    f.scratch_bytes = F::template scratch_bytes<N, T, Arch>();
  else if constexpr (requires { F::template scratch_bytes<N, T>(); })
    f.scratch_bytes = F::template scratch_bytes<N, T>();
  f.scratch_lives_with_result = F::scratch_lives_with_result;
  f.first_operand = first_operand;
  f.operand_count = operands_of<N>::type::size;
  if constexpr (F::output) f.output_index = N::operation::index;
  return f;
}

template <class Order>
inline constexpr std::size_t edge_count = []<class... Ns>(type_list<Ns...>) {
  return (std::size_t{0} + ... + operands_of<Ns>::type::size);
}(Order{});

// The graph's facts: nodes in Order, operands as positions in Order.
template <class Order, class T, class Layout, class Arch>
constexpr graph_facts<Order::size, edge_count<Order>> graph_of() {
  graph_facts<Order::size, edge_count<Order>> g{};
  std::size_t node = 0, edge = 0;
  [&]<class... Ns>(type_list<Ns...>) {
    ((g.nodes[node++] = facts_of<Ns, T, Arch, Order>(edge),
      [&]<class... Os>(type_list<Os...>) {
        ((g.edges[edge++] = static_cast<int>(position_in<Os, Layout>::value)), ...);
      }(typename operands_of<Ns>::type{})),
     ...);
  }(Order{});
  return g;
}

// The program's parameters marked among the leaves (node_facts::parameter_index:
// parameter i - 1 of Params), for the plan's gradient kernels.
template <class Order, class Layout, class Params, std::size_t N, std::size_t E>
constexpr graph_facts<N, E> with_parameters(graph_facts<N, E> g) {
  [&]<class... Ps, std::size_t... I>(type_list<Ps...>, std::index_sequence<I...>) {
    (
        [&] {
          if constexpr (contains<Ps, Order>) g.nodes[position_in<Ps, Layout>::value].parameter_index = I + 1;
        }(),
        ...);
  }(Params{}, std::make_index_sequence<Params::size>{});
  return g;
}

template <std::size_t... I>
constexpr std::array<int, sizeof...(I)> index_array(std::index_sequence<I...>) {
  return {static_cast<int>(I)...};
}

}  // namespace

// schedule<Order, Params, T, Arch> (compile/schedule_key.hpp) names this
// class by its key, which keeps the kernels' symbol names short.
template <class Order, class Params, class T, class Arch>
struct schedule_of_lists {
  using order = Order;
  using params = Params;
  using value_type = T;
  using arch = Arch;
};
template <class Order, class Params, class T, class Arch>
schedule_of_lists<Order, Params, T, Arch> lists_of(type_list<Order, Params, T, Arch>);

template <class Key>
struct keyed_schedule {
 private:
  using lists = decltype(detail::lists_of(scheduled_lists_of<Key>{}));  // qualified: no ADL (core/type_list.hpp)
  using Order = typename lists::order;
  using Params = typename lists::params;
  using T = typename lists::value_type;
  using Arch = typename lists::arch;
  using schedule = keyed_schedule;

 public:
  using nodes = Order;
  using value_type = T;
  using arch = Arch;
  static constexpr std::size_t node_count = Order::size;

 private:
  using layout = positions<Order>;

 public:
  template <class N>
  static constexpr std::size_t index = position_in<N, layout>::value;
  template <std::size_t I>
  using node_at = typename type_at<I, Order>::type;
  // The symbol of the I-th parameter the program differentiates with respect to.
  template <std::size_t I>
  using parameter = typename type_at<I, Params>::type;
  static constexpr std::size_t parameter_count = Params::size;

  static constexpr auto graph = with_parameters<Order, layout, Params>(graph_of<Order, T, layout, Arch>());
  static constexpr program_plan<node_count> plan = make_plan(graph);

  template <class N>
  static constexpr bool is_transpose_view = plan.transpose_view[index<N>];

  // Functions over one node take its index, not its type: a function
  // template over a node type spells the node's whole subgraph in its symbol
  // name, which g++ mangles at a cost quadratic in its length
  // (compile/schedule_key.hpp; compile/kernels/family.hpp). index<N> gives
  // a node's index.

  // Where root J writes.
  template <std::size_t J, class Ctx>
  static T* destination(const Ctx& c) noexcept {
    if constexpr (plan.external[J])
      return destination<static_cast<std::size_t>(plan.redirect[J])>(c);
    else if constexpr (family_of<node_at<J>>::output)
      return family_of<node_at<J>>::template destination<schedule, J>(c);
    else
      return reinterpret_cast<T*>(c.arena + plan.offset[J]);
  }

  template <std::size_t J, class Ctx>
  static T* scratch(const Ctx& c) noexcept {
    return reinterpret_cast<T*>(c.arena + plan.scratch_offset[J]);
  }

  // Where node J's values are read from: its own buffer, or (leaves, views)
  // where its family says.
  template <std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    using F = family_of<node_at<J>>;
    if constexpr (F::leaf || F::view || plan.transpose_view[J])
      return F::template pointer<schedule, J>(c);
    else
      return static_cast<const T*>(destination<J>(c));
  }

  template <std::size_t Param, class Ctx>
  static auto& parameter_value(const Ctx& c) noexcept {
    return c.params.template get<parameter<Param>::name>();
  }

  // The parameter whose gradient root I writes, or -1.
  template <int I>
  static constexpr int gradient_of = [] {
    if constexpr (plan.external[I])
      return static_cast<int>(node_at<static_cast<std::size_t>(plan.redirect[I])>::operation::index) - 1;
    else
      return -1;
  }();

  // May parameter Param's update run in the epilogue of the kernel at I? Only
  // when its family takes updates and no kernel reads the parameter's value
  // at or after that one.
  template <int I, int Param>
  static constexpr bool update_fusable = [] {
    if constexpr (Param < 0 || !graph.nodes[I].takes_update) {
      return false;
    } else {
      using symbol_type = parameter<static_cast<std::size_t>(Param)>;
      if constexpr (!contains<symbol_type, Order>)
        return true;
      else
        return plan.last_read[index<symbol_type>] < plan.position[I];
    }
  }();

  // Is parameter Param updated inside the backward pass under Update?
  template <std::size_t Param, class Update>
  static constexpr bool fuses_update = [] {
    bool found = false;
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((found = found || (gradient_of<plan.schedule[K]> == static_cast<int>(Param) &&
                          update_fusable<plan.schedule[K], static_cast<int>(Param)> &&
                          Update::template fuses<Param>)),
       ...);
    }(std::make_index_sequence<plan.kernel_count>{});
    return found;
  }();

  // The data checks the families ask for (class ids in range), before any
  // kernel. Only the nodes whose family checks get a function: a program has
  // hundreds of nodes and a handful of checks.
  template <class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    static constexpr auto checked = [] {
      std::array<std::size_t, node_count + 1> at{};
      std::size_t count = 0;
      [&]<std::size_t... J>(std::index_sequence<J...>) {
        ((checks_data<J, Ctx> ? void(at[count++] = J) : void()), ...);
      }(std::make_index_sequence<node_count>{});
      at[node_count] = count;
      return at;
    }();
    run_error error{};
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (void)((validate_node<checked[K]>(c, error)) && ...);
    }(std::make_index_sequence<checked[node_count]>{});
    return error;
  }

  // After which kernel (its position in the schedule) each parameter's
  // gradient is whole in the store (plan.hpp's gradient_positions), -1 where
  // no kernel writes it. A variable template: made only where asked for.
  template <class = void>
  static constexpr auto gradients_written_at = gradient_positions<Params::size>(graph, plan);

  template <class Ctx>
  TAPELESS_ALWAYS_INLINE static void run(const Ctx& c) noexcept {
    if constexpr (requires { c.update->after_kernel(std::size_t{}); }) {
      // A step watched kernel by kernel (tl::dist's reduction overlapped with
      // the backward pass): told the position of each kernel once it is done.
      [&]<std::size_t... K>(std::index_sequence<K...>) TAPELESS_ALWAYS_INLINE_LAMBDA {
        ((run_kernel<plan.schedule[K]>(c), c.update->after_kernel(K)), ...);
      }(std::make_index_sequence<plan.kernel_count>{});
    } else {
      // Always inlined too: g++ 12 cloned this lambda (IPA-SRA) in W1's
      // training step, and a clone is neither flattened nor inlined there.
      [&]<std::size_t... K>(std::index_sequence<K...>) TAPELESS_ALWAYS_INLINE_LAMBDA {
        (run_kernel<plan.schedule[K]>(c), ...);
      }(std::make_index_sequence<plan.kernel_count>{});
    }
  }

  // Only the kernels that the nodes Wanted (a std::index_sequence of node
  // indices) need (plan.hpp's kernels_needed): a training program's forward call.
  template <class Wanted>
  static constexpr kernel_subset<node_count> part = kernels_needed(graph, plan, index_array(Wanted{}));

  template <class Wanted, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run_part(const Ctx& c) noexcept {
    [&]<std::size_t... K>(std::index_sequence<K...>) TAPELESS_ALWAYS_INLINE_LAMBDA {
      (run_kernel<part<Wanted>.schedule[K]>(c), ...);
    }(std::make_index_sequence<part<Wanted>.kernel_count>{});
  }

 private:
  // Does node J's family check the data it reads?
  template <std::size_t J, class Ctx>
  static constexpr bool checks_data =
      requires(const Ctx& c) { family_of<node_at<J>>::template validate<schedule, J>(c); };

  template <std::size_t J, class Ctx>
  static bool validate_node(const Ctx& c, run_error& error) noexcept {
    error = family_of<node_at<J>>::template validate<schedule, J>(c);
    return !error;
  }

  template <int I, class Ctx>
  TAPELESS_KERNEL_INLINE static void run_kernel(const Ctx& c) noexcept {
    using N = node_at<static_cast<std::size_t>(I)>;
    if constexpr (plan.pooled_by[I] >= 0) {
      // The convolution, this loop as its epilogue and the pooling of it: one
      // kernel, image by image.
      using Producer = node_at<static_cast<std::size_t>(plan.epilogue_of[I])>;
      family_of<Producer>::template run_with_pooled_epilogue<schedule, I, plan.epilogue_of[I], plan.pooled_by[I]>(c);
    } else if constexpr (plan.epilogue_of[I] >= 0) {
      using Producer = node_at<static_cast<std::size_t>(plan.epilogue_of[I])>;
      family_of<Producer>::template run_with_epilogue<schedule, I, plan.epilogue_of[I]>(c);
    } else {
      family_of<N>::template run<schedule, I>(c);
    }
  }
};

}  // namespace tapeless::detail
