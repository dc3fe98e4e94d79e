#pragma once
// scan_op: the body (expr/scan.hpp) compiled once as a schedule of its own
// and run once per time step, its arena in the scan's scratch, its carry and
// step input bound to the current step's slices. scan_gradient_op: the
// body's derivative (derived here, with diff/reverse.hpp, from
// sum(body * adjoint)) run once per step from the last to the first,
// accumulating the params' gradients over the steps. scan_part_op: one
// operand's gradient, read in place in the reverse scan's buffer.
//
// The recurrent product saved: a body with one matrix product (a recurrent
// layer's h W_hh^T) writes it, at every step, into the scan's scratch, which
// lives as long as the scan's result (scratch_lives_with_result); the body's
// derivative reads it there instead of computing it again (the backward pass
// of an LSTM-128 at batch 64 spent a quarter of its time on that product). A
// streaming scan (KeepsState) saves nothing; a forward-only program writes the
// products and never reads them, as max pooling's indices (pool2d.hpp).
//
// With batch 1, or a time-major scan ([T, N, F]), a step's slices are
// contiguous and read and written where they lie; a batch-first scan of a
// larger batch gathers them into (and scatters them from) contiguous scratch,
// N rows of a few elements per step.

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>

#include <tapeless/compile/context.hpp>
#include <tapeless/compile/kernel_form.hpp>
#include <tapeless/compile/packed_weights.hpp>
#include <tapeless/compile/kernels/copy.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/output.hpp>
#include <tapeless/compile/plan.hpp>
#include <tapeless/compile/schedule_key.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/diff/d.hpp>  // every derivative rule: the body's derivative needs them
#include <tapeless/diff/jvp.hpp>  // replaced: the saved product read where the derivative computes it
#include <tapeless/diff/reverse.hpp>
#include <tapeless/diff/rules/scan.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/scan.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/narrower_arch.hpp>

namespace tapeless::detail {


// A step's slice as a body's input binding sees it.
template <class T>
struct step_slice {
  const T* pointer = nullptr;
  const T* data() const noexcept { return pointer; }
};

// Where the body's derivative writes the gradient of one of its targets.
template <class T>
struct gradient_slot {
  T* pointer = nullptr;
  T* data() const noexcept { return pointer; }
};

// The store a body's derivative runs with: params read from the program's
// store, gradients written where the reverse scan points them.
template <class Store, class T, class Targets>
struct scan_gradient_store;
template <class Store, class T, class... Targets>
struct scan_gradient_store<Store, T, type_list<Targets...>> {
  Store& params;
  std::array<T*, sizeof...(Targets)> gradients{};

  template <fixed_string Name>
  decltype(auto) get() const noexcept {
    return params.template get<Name>();
  }
  template <fixed_string Name>
  gradient_slot<T> grad() const noexcept {
    constexpr std::size_t i = [] {
      constexpr bool hits[] = {(Targets::name == Name)..., true};
      std::size_t k = 0;
      while (!hits[k]) ++k;
      return k;
    }();
    static_assert(i < sizeof...(Targets));
    return {gradients[i]};
  }
};

template <class Targets>
struct prepend_step;

// The matrix products among a body's nodes (Order), in order.
template <class Op>
inline constexpr bool is_product_operation = false;
template <std::size_t M, std::size_t K, std::size_t N>
inline constexpr bool is_product_operation<matmul_op<M, K, N>> = true;
template <class Order>
struct body_products;
template <class... Ns>
struct body_products<type_list<Ns...>> {
  template <class N>
  static auto one() {
    if constexpr (requires { typename N::operation; }) {
      if constexpr (is_product_operation<typename N::operation>) return gathered<N>{};
      else return gathered<>{};
    } else {
      return gathered<>{};
    }
  }
  template <class... Ps>
  static type_list<Ps...> listed(gathered<Ps...>);
  using type = decltype(listed((gathered<>{} | ... | one<Ns>())));
};

// The product a scan's body saves (void: none), as the forward step writes it
// and the backward step reads it.
template <class Product, class T>
struct saved_product {
  static constexpr std::size_t size = shape_of<Product>::size;
  using symbol_type = symbol<"tapeless.scan.saved", T, shape_of<Product>, symbol_kind::input>;
  // The forward step in two programs: the product alone, written where it
  // is saved (its only user the output: the GEMM writes there directly), then
  // the body's value reading it there (the gates' elementwise work one loop).
  using product_order = topological_order<node<output_op<0, shape_of<Product>>, Product>>;
  template <class Root>
  using forward_order = topological_order<typename replaced<Root, Product, symbol_type>::type>;
  // A derivative that reads the product where it would compute it.
  template <class E>
  using reading_it = typename replaced<E, Product, symbol_type>::type;
};
template <class T>
struct saved_product<void, T> {
  static constexpr std::size_t size = 0;
  using product_order = void;
  template <class Root>
  using forward_order = topological_order<Root>;
  template <class E>
  using reading_it = E;
};

// The body of scan operation Op as programs: its step (forward) and the
// derivative of sum(body * adjoint) with respect to the carry, the step's
// input and every param (backward), in element type T on Arch.
template <class Op, class T>
struct scan_body {
  using carry = typename Op::carry_symbol;
  using step = typename Op::step_symbol;
  using carry_shape = typename carry::shape_type;
  using step_shape = typename step::shape_type;
  using params = parameter_symbols_t<typename Op::body>;
  using body = simplified_t<typename Op::body>;
  using body_root = node<output_op<0, carry_shape>, kernel_form_t<body>>;

  // The product saved at every step for the backward pass (see the top of
  // this file): the body's only matrix product, unless the scan streams.
  using products = typename body_products<topological_order<body_root>>::type;
  static constexpr bool saves_product = products::size == 1 && !Op::keeps_state;
  using saved = saved_product<typename front<std::conditional_t<saves_product, products, type_list<void>>>::type,
                              typename carry::element_type>;
  using forward_order = typename saved::template forward_order<body_root>;

  // The adjoint of the body's value: a third placeholder, bound to the
  // adjoint of the carry the step made.
  using adjoint = symbol<"tapeless.scan.adjoint", typename carry::element_type, carry_shape, symbol_kind::input>;
  using root = simplified_t<decltype(tapeless::sum(body{} * adjoint{}))>;
  template <class K>
  using partial = typename saved::template reading_it<kernel_form_t<derivative_t<root, K>>>;

  template <class Params>
  struct backward_nodes;
  template <class... Ps>
  struct backward_nodes<type_list<Ps...>> {
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>)
        -> topological_order<node<output_op<0, carry_shape>, partial<carry>>,
                             node<output_op<1, step_shape>, partial<step>>,
                             node<output_op<I + 2, typename Ps::shape_type>, partial<Ps>>...>;
    using order = decltype(make(std::index_sequence_for<Ps...>{}));
    // Output i > 0 writes the gradient of the (i - 1)-th target.
    using targets = type_list<step, Ps...>;
  };
  using backward_order = typename backward_nodes<params>::order;
  using backward_targets = typename backward_nodes<params>::targets;

  template <class Arch>
  using forward = schedule<forward_order, type_list<>, T, Arch>;
  template <class Arch>
  using backward = schedule<backward_order, backward_targets, T, Arch>;

  template <class Arch>
  using product_forward = schedule<typename saved::product_order, type_list<>, T, Arch>;

  // The schedule whose products a program's packed copies serve
  // (compile/packed_weights.hpp): the one that computes the body's products.
  template <class Arch>
  static auto packed_schedule_of() {
    if constexpr (saves_product)
      return std::type_identity<product_forward<Arch>>{};
    else
      return std::type_identity<forward<Arch>>{};
  }
  template <class Arch>
  using packed_schedule = typename decltype(packed_schedule_of<Arch>())::type;

  // One forward step into c.result; the product (when saved) into product_at,
  // where c's binding of the saved product points. Ctx may carry the
  // packed copies of packed_schedule's weights (packed_weights_context);
  // the other schedule runs with the plain context.
  template <class Arch, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run_forward(Ctx& c, [[maybe_unused]] T* product_at) noexcept {
    if constexpr (saves_product) {
      T* carry_at = c.result;
      c.result = product_at;
      product_forward<Arch>::run(c);
      c.result = carry_at;
      forward<Arch>::run(plain_context(c));
    } else {
      forward<Arch>::run(c);
    }
  }

  template <class Ctx>
  TAPELESS_ALWAYS_INLINE static const auto& plain_context(const Ctx& c) noexcept {
    if constexpr (requires { c.packed_weights; })
      return static_cast<const typename Ctx::base_context&>(c);
    else
      return c;
  }

  // Arena sizes depend only on the graphs' sizes, not on the instruction set.
  static constexpr std::size_t forward_arena = [] {
    if constexpr (saves_product)
      return std::max(forward<xsimd::default_arch>::plan.arena_bytes,
                      product_forward<xsimd::default_arch>::plan.arena_bytes);
    else
      return forward<xsimd::default_arch>::plan.arena_bytes;
  }();
  static constexpr std::size_t backward_arena = backward<xsimd::default_arch>::plan.arena_bytes;
  static constexpr std::array<std::size_t, params::size + 1> param_sizes = []<class... Ps>(type_list<Ps...>) {
    return std::array<std::size_t, params::size + 1>{Ps::shape_type::size..., 0};
  }(params{});
};

// Pieces of a scan's scratch, each on a buffer_alignment boundary.
struct scratch_cursor {
  std::byte* at;
  template <class T>
  T* take(std::size_t elements) noexcept {
    T* p = reinterpret_cast<T*>(at);
    at += align_up(elements * sizeof(T));
    return p;
  }
};

// Rows [n, t, :] of a [N, T, W] sequence, for every n, to or from a
// contiguous [N, W] slice.
template <std::size_t N, std::size_t Steps, std::size_t W, class T>
inline void gather_step(const T* sequence, std::size_t t, T* slice) noexcept {
  for (std::size_t n = 0; n < N; ++n) std::copy_n(sequence + (n * Steps + t) * W, W, slice + n * W);
}
template <std::size_t N, std::size_t Steps, std::size_t W, class T>
inline void scatter_step(const T* slice, std::size_t t, T* sequence) noexcept {
  for (std::size_t n = 0; n < N; ++n) std::copy_n(slice + n * W, W, sequence + (n * Steps + t) * W);
}

struct scan_family : kernel_family_defaults {
  // It writes every carry, a whole buffer of its shape.
  static constexpr bool writes_output_in_place = true;

  // The steps of scan node N.
  template <class N>
  static constexpr std::size_t steps_of =
      shape_of<typename front<typename operands_of<N>::type>::type>::dims[N::operation::time_major ? 0 : 1];

  // The instruction set scan node N's body runs on, in schedule Sched: the
  // body's loops run over rows of `state` elements, on batches no wider.
  template <class Sched, class N>
  using body_arch_of = simd::fitting_arch<typename Sched::value_type, typename Sched::arch, N::operation::state>;

  // The transposed weights the body reads when the program packs them
  // (program.pack_weights, tl::stream's pack_weights): a recurrent layer's
  // W_hh^T, for its product with the carry at every step by broadcast-and-FMA
  // (compile/packed_weights.hpp), kept inside the program's copies.
  template <class Sched, class N>
  using packed_inside = packed_weights<typename scan_body<typename N::operation, typename Sched::value_type>::
                                           template packed_schedule<body_arch_of<Sched, N>>>;

  template <class N, class T>
  static constexpr std::size_t scratch_bytes() {
    using Op = typename N::operation;
    constexpr std::size_t carry = align_up(Op::batch * Op::state * sizeof(T));
    constexpr std::size_t step = align_up(Op::batch * Op::features * sizeof(T));
    // The saved products (first: the reverse scan finds them there), the
    // body's arena, a zero carry, two carries and a step's input.
    constexpr std::size_t saved = align_up(steps_of<N> * scan_body<Op, T>::saved::size * sizeof(T));
    return saved + align_up(scan_body<Op, T>::forward_arena) + 3 * carry + step;
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Op = typename N::operation;
    using body = scan_body<Op, T>;
    using operands = typename operands_of<N>::type;
    using X = typename type_at<0, operands>::type;
    constexpr std::size_t batch = Op::batch, steps = shape_of<X>::dims[Op::time_major ? 0 : 1];
    constexpr std::size_t state = Op::state, features = Op::features;
    // Step t's slices lie together, at t * batch * width.
    constexpr bool contiguous_steps = Op::time_major || batch == 1;
    using body_arch = body_arch_of<Sched, N>;

    const T* x = Sched::template pointer<Sched::template index<X>>(c);
    T* out = Sched::template destination<I>(c);
    scratch_cursor scratch{reinterpret_cast<std::byte*>(Sched::template scratch<I>(c))};
    T* saved_products = scratch.take<T>(steps * body::saved::size);
    std::byte* arena = scratch.take<std::byte>(body::forward_arena);
    T* zero_carry = scratch.take<T>(batch * state);
    T* carries[2] = {scratch.take<T>(batch * state), scratch.take<T>(batch * state)};
    T* step_input = scratch.take<T>(batch * features);

    const T* initial = zero_carry;
    if constexpr (Op::has_initial_carry)
      initial = Sched::template pointer<Sched::template index<typename type_at<1, operands>::type>>(c);
    else
      std::fill_n(zero_carry, batch * state, T(0));

    step_slice<T> carry_slice{initial}, input_slice{x}, saved_slice{saved_products};
    binding<Op::carry_symbol::name, step_slice<T>> carry_binding{carry_slice};
    binding<Op::step_symbol::name, step_slice<T>> input_binding{input_slice};
    binding<"tapeless.scan.saved", step_slice<T>> saved_binding{saved_slice};  // read when the body saves
    no_fused_update none;
    using store_type = std::remove_reference_t<decltype(c.params)>;
    using step_context_type = run_context<T, store_type, no_fused_update, decltype(carry_binding),
                                          decltype(input_binding), decltype(saved_binding)>;
    // With the program's packed copies beside it when the program packs
    // (Ctx then carries them): the body's share of them, at N's offset.
    auto step_context = [&]() TAPELESS_ALWAYS_INLINE_LAMBDA {
      step_context_type base{c.params,      {carry_binding, input_binding, saved_binding},
                             arena,         nullptr,
                             nullptr,       c.random_seed,
                             c.steps_taken, c.training,
                             &none,         c.threads};
      if constexpr (requires { c.packed_weights; })
        return packed_weights_context<step_context_type>{
            base, packed_weights<Sched>::template copies_inside<I>(c.packed_weights)};
      else
        return base;
    }();

    for (std::size_t t = 0; t < steps; ++t) {
      T* product_at = saved_products + t * body::saved::size;
      saved_slice.pointer = product_at;
      if constexpr (contiguous_steps) {
        // Slices lie contiguous: read and write them in place.
        carry_slice.pointer = t == 0 ? initial : out + (t - 1) * batch * state;
        input_slice.pointer = x + t * batch * features;
        step_context.result = out + t * batch * state;
        body::template run_forward<body_arch>(step_context, product_at);
      } else {
        gather_step<batch, steps, features>(x, t, step_input);
        carry_slice.pointer = t == 0 ? initial : carries[(t + 1) % 2];
        input_slice.pointer = step_input;
        step_context.result = carries[t % 2];
        body::template run_forward<body_arch>(step_context, product_at);
        scatter_step<batch, steps, state>(carries[t % 2], t, out);
      }
    }
    if constexpr (Op::keeps_state) {
      // The last carry, where the next call starts from.
      using S = typename type_at<1, operands>::type;
      auto* kept = c.template bound<S::name>().data();
      static_assert(!std::is_const_v<std::remove_pointer_t<decltype(kept)>>,
                    "tapeless::scan: a scan that keeps its state writes its last carry back into the "
                    "state's binding, which must be writable memory (a std::span<T, N>)");
      // Inline (copy_run): a call of memmove cost a streamed LSTM-32 a few ns per sample.
      if constexpr (contiguous_steps)
        copy_run<batch * state, body_arch>(out + (steps - 1) * batch * state, kept);
      else
        copy_run<batch * state, body_arch>(carries[(steps - 1) % 2], kept);
    }
  }
};

// A scan whose body saves its product: its scratch (the products first) is
// read by the reverse scan, so it lives as long as the scan's result.
struct saving_scan_family : scan_family {
  static constexpr bool scratch_lives_with_result = true;
};

struct scan_gradient_family : kernel_family_defaults {
  template <class N, class T>
  static constexpr std::size_t scratch_bytes() {
    using Op = typename N::operation::forward::operation;
    using body = scan_body<Op, T>;
    constexpr std::size_t carry = align_up(Op::batch * Op::state * sizeof(T));
    constexpr std::size_t step = align_up(Op::batch * Op::features * sizeof(T));
    constexpr std::size_t params = []<class... Ps>(type_list<Ps...>) {
      return (std::size_t{0} + ... + align_up(Ps::shape_type::size * sizeof(T)));
    }(typename body::params{});
    // The derivative's arena; the adjoint in and out, the previous carry and
    // a zero one; the step's input and its gradient; each param's gradient
    // at one step.
    return align_up(body::backward_arena) + 4 * carry + 2 * step + params;
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Op = typename N::operation::forward::operation;
    using body = scan_body<Op, T>;
    using operands = typename operands_of<N>::type;
    using X = typename type_at<0, operands>::type;
    using Forward = typename type_at<1, operands>::type;
    using G = typename type_at<2, operands>::type;
    constexpr std::size_t batch = Op::batch, steps = shape_of<X>::dims[Op::time_major ? 0 : 1];
    constexpr std::size_t state = Op::state, features = Op::features;
    constexpr bool contiguous_steps = Op::time_major || batch == 1;
    // The body's loops run over rows of `state` elements: on batches no wider.
    using body_arch = simd::fitting_arch<T, typename Sched::arch, state>;
    constexpr std::size_t carry_size = batch * state, step_size = batch * features;
    constexpr std::size_t param_count = body::params::size;

    const T* x = Sched::template pointer<Sched::template index<X>>(c);
    const T* carries = Sched::template pointer<Sched::template index<Forward>>(c);
    const T* adjoint_in = Sched::template pointer<Sched::template index<G>>(c);
    T* gradients = Sched::template destination<I>(c);
    T* dx = gradients;
    T* dinitial = dx + shape_of<X>::size;
    T* dparams = dinitial + (Op::has_initial_carry ? carry_size : 0);

    // The products the forward scan saved, at the start of its scratch.
    const T* saved_products = reinterpret_cast<const T*>(Sched::template scratch<Sched::template index<Forward>>(c));
    scratch_cursor scratch{reinterpret_cast<std::byte*>(Sched::template scratch<I>(c))};
    std::byte* arena = scratch.take<std::byte>(body::backward_arena);
    T* adjoint = scratch.take<T>(carry_size);       // of the carry step t made
    T* adjoint_next = scratch.take<T>(carry_size);  // of the carry step t read
    T* previous = scratch.take<T>(carry_size);
    T* zero_carry = scratch.take<T>(carry_size);
    T* step_input = scratch.take<T>(step_size);
    T* step_gradient = scratch.take<T>(step_size);
    std::array<T*, param_count + 1> param_step{};
    std::array<T*, param_count + 1> param_total{};
    {
      T* total = dparams;
      for (std::size_t k = 0; k < param_count; ++k) {
        param_step[k] = scratch.take<T>(body::param_sizes[k]);
        param_total[k] = total;
        total += body::param_sizes[k];
      }
      std::fill(dparams, total, T(0));
    }

    const T* initial = zero_carry;
    if constexpr (Op::has_initial_carry)
      initial = Sched::template pointer<Sched::template index<typename type_at<3, operands>::type>>(c);
    else
      std::fill_n(zero_carry, carry_size, T(0));
    std::fill_n(adjoint_next, carry_size, T(0));

    step_slice<T> carry_slice{initial}, input_slice{x}, adjoint_slice{adjoint};
    binding<Op::carry_symbol::name, step_slice<T>> carry_binding{carry_slice};
    binding<Op::step_symbol::name, step_slice<T>> input_binding{input_slice};
    binding<body::adjoint::name, step_slice<T>> adjoint_binding{adjoint_slice};
    step_slice<T> saved_slice{saved_products};
    binding<"tapeless.scan.saved", step_slice<T>> saved_binding{saved_slice};  // read when the body saves
    using store_type = std::remove_reference_t<decltype(c.params)>;
    scan_gradient_store<store_type, T, typename body::backward_targets> store{c.params, {}};
    for (std::size_t k = 0; k < param_count; ++k) store.gradients[k + 1] = param_step[k];
    no_fused_update none;
    run_context<T, decltype(store), no_fused_update, decltype(carry_binding), decltype(input_binding),
                decltype(adjoint_binding), decltype(saved_binding)>
        step_context{store,         {carry_binding, input_binding, adjoint_binding, saved_binding},
                     arena,         adjoint_next,
                     nullptr,       c.random_seed,
                     c.steps_taken, c.training,
                     &none,         c.threads};

    for (std::size_t t = steps; t-- > 0;) {
      // The carry step t made is read by the loss (the adjoint of the scan's
      // output) and by step t + 1 (what that step sent back).
      if constexpr (contiguous_steps) {
        const T* in = adjoint_in + t * carry_size;
        for (std::size_t e = 0; e < carry_size; ++e) adjoint[e] = in[e] + adjoint_next[e];
        carry_slice.pointer = t == 0 ? initial : carries + (t - 1) * carry_size;
        input_slice.pointer = x + t * step_size;
        store.gradients[0] = dx + t * step_size;
      } else {
        for (std::size_t n = 0; n < batch; ++n)
          for (std::size_t s = 0; s < state; ++s)
            adjoint[n * state + s] = adjoint_in[(n * steps + t) * state + s] + adjoint_next[n * state + s];
        if (t == 0) {
          carry_slice.pointer = initial;
        } else {
          gather_step<batch, steps, state>(carries, t - 1, previous);
          carry_slice.pointer = previous;
        }
        gather_step<batch, steps, features>(x, t, step_input);
        input_slice.pointer = step_input;
        store.gradients[0] = step_gradient;
      }
      if constexpr (body::saves_product) saved_slice.pointer = saved_products + t * body::saved::size;
      body::template backward<body_arch>::run(step_context);
      if constexpr (!contiguous_steps) scatter_step<batch, steps, features>(step_gradient, t, dx);
      for (std::size_t k = 0; k < param_count; ++k) {
        T* total = param_total[k];
        const T* one_step = param_step[k];
        for (std::size_t e = 0; e < body::param_sizes[k]; ++e) total[e] += one_step[e];
      }
    }
    if constexpr (Op::has_initial_carry) std::copy_n(adjoint_next, carry_size, dinitial);
  }
};

struct scan_part_family : kernel_family_defaults {
  // No kernel: a window of the reverse scan's buffer.
  static constexpr bool view = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<J>;
    return Sched::template pointer<operand_index<Sched, J, 0>>(c) + N::operation::offset;
  }
};

template <class Body, class Carry, class Step, bool InitialCarry, bool KeepsState, bool TimeMajor>
struct op_family<scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>> {
  using op = scan_op<Body, Carry, Step, InitialCarry, KeepsState, TimeMajor>;
  using type = std::conditional_t<scan_body<op, typename Carry::element_type>::saves_product, saving_scan_family,
                                  scan_family>;
};
template <class Forward>
struct op_family<scan_gradient_op<Forward>> {
  using type = scan_gradient_family;
};
template <std::size_t Offset, class Shape>
struct op_family<scan_part_op<Offset, Shape>> {
  using type = scan_part_family;
};

}  // namespace tapeless::detail
