#pragma once
// tl::compile: from expressions to a program, a type whose kernels, their
// order and every buffer are fixed while the user's code compiles.
//
//   auto program = tl::compile(loss);          // loss: rank 0, reads params
//   auto params = tl::parameters_of(loss);
//   float l = program.step(params, X = xbatch, Y = ybatch);  // forward + backward:
//                                              // fills params.grad<...>() for every param
//   float v = program(params, X = xbatch, Y = ybatch);       // forward only
//
//   auto predict = tl::compile(logits);        // not a loss: forward only
//   const auto& z = predict(params, X = xbatch);   // tl::tensor, the program's own
//
//   auto trainer = tl::compile(loss, tl::step_output(logits));  // a step also keeps logits:
//   trainer.step(params, X = xbatch, Y = ybatch);
//   const auto& z = trainer.step_output();     // the step's logits, no second forward pass
//
//   tl::compile<tl::heap_storage>(loss);       // where its buffers live (core/storage.hpp)
//   tl::compile<xsimd::avx2>(loss);            // the instruction set (default: xsimd::default_arch)
//
// Stepping allocates nothing, throws nothing and calls nothing virtual. The
// program's buffers live in one arena of `arena_bytes` bytes, beside its
// result, inside the program or allocated once when it is made.
//
// Bad data (a class id out of range, a std::span of the wrong size) is found
// before any kernel runs: the call then changes nothing, returns NaN (or a
// NaN tensor) and last_error() says what and where (compile/run_error.hpp).

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tapeless/compile/batch_norm_folding.hpp>
#include <tapeless/compile/bindings.hpp>
#include <tapeless/compile/context.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/sanitized_build.hpp>
#include <tapeless/compile/packed_weights.hpp>
#include <tapeless/compile/kernel_form.hpp>
#include <tapeless/compile/run_error.hpp>
#include <tapeless/compile/schedule.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/diff/reverse.hpp>
#include <tapeless/diff/simplify.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/parameter_symbols.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

// The attributes of a step run as one function (see step_in_one_function).
// noclone keeps g++'s IPA-SRA from cloning it. A clone (name.isra.0) binds
// locally, so the caller keeps its own values in registers around the call:
// dense 16x16 at batch 1 took 5.65 ns per call with it against 5.95 without
// (bench/results/batch1.md), but every streamed recurrent layer got slower,
// by 1-12% (GRU-8/16, LSTM-16/32 in bench/peers/tapeless_sequence, A/B in
// one sitting): the stream's step is the latency our users pick us for.
// clang has no such attribute (and warns on it) nor that clone.
// Not flattened under a sanitizer (see sanitized_build.hpp).
#if defined(TAPELESS_SANITIZED_BUILD)
#define TAPELESS_ONE_FUNCTION_STEP [[gnu::noinline]]
#elif defined(__clang__)
#define TAPELESS_ONE_FUNCTION_STEP [[gnu::noinline]] TAPELESS_FLATTEN
#else
#define TAPELESS_ONE_FUNCTION_STEP [[gnu::noinline, gnu::noclone]] TAPELESS_FLATTEN
#endif

namespace tapeless {

namespace detail {

// The element type a program computes in: double if any floating symbol is
// double, else float.
template <class List>
struct compute_type;
template <class N>
struct is_double_symbol : std::false_type {};
template <class N>
  requires is_symbol<N>
struct is_double_symbol<N> : std::is_same<typename N::element_type, double> {};
template <class... Ns>
struct compute_type<type_list<Ns...>> {
  using type = std::conditional_t<(is_double_symbol<Ns>::value || ...), double, float>;
};

// Part of a schedule, run as a whole one: the kernels that the nodes Wanted
// (a std::index_sequence of node indices) need.
template <class Schedule, class Wanted>
struct schedule_part {
  static constexpr const auto& graph = Schedule::graph;
  static constexpr std::size_t kernel_count = Schedule::template part<Wanted>.kernel_count;
  template <class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    return Schedule::validate(c);
  }
  template <class Ctx>
  TAPELESS_ALWAYS_INLINE static void run(const Ctx& c) noexcept {
    Schedule::template run_part<Wanted>(c);
  }
};
template <class Schedule, class Outputs>
struct part_for;
template <class Schedule, class... Outputs>
struct part_for<Schedule, type_list<Outputs...>> {
  using type = schedule_part<Schedule, std::index_sequence<Schedule::template index<Outputs>...>>;
};
// The schedule of Outputs, named only when chosen.
template <template <class> class ScheduleFor, class Outputs>
struct whole_schedule_for {
  using type = ScheduleFor<Outputs>;
};

template <class S, class Partials, class Params>
struct output_nodes;
template <class S, class... Partials, class... Params>
struct output_nodes<S, type_list<Partials...>, type_list<Params...>> {
  template <std::size_t... I>
  static auto make(std::index_sequence<I...>)
      -> type_list<node<output_op<0, shape_of<S>>, kernel_form_t<S>>,
                   node<output_op<I + 1, typename Params::shape_type>, kernel_form_t<Partials>>...>;
  using type = decltype(make(std::index_sequence_for<Params...>{}));
};

// What tl::step_output(z) adds to a program's outputs: z, written into the
// program's step_output() buffer by every call; nothing when there is none.
struct no_step_output {};
template <class S>
struct step_output_nodes {
  using type = type_list<node<output_op<step_output_index, shape_of<S>>, kernel_form_t<S>>>;
};
template <>
struct step_output_nodes<no_step_output> {
  using type = type_list<>;
};
template <class... As, class... Bs>
type_list<As..., Bs...> concatenated(type_list<As...>, type_list<Bs...>);

// Each output of a list in forward_form (kernel_form.hpp).
template <class List>
struct forward_forms;
template <class... Outputs>
struct forward_forms<type_list<Outputs...>> {
  using type = type_list<forward_form_t<Outputs>...>;
};

template <class S>
struct step_output_tensor {
  template <class T>
  using type = tensor_for<T, shape_of<S>>;
};
// No buffer at all without a step output (the program's size is unchanged).
template <class T>
struct no_step_output_values {
  constexpr T* data() noexcept { return nullptr; }
};
template <>
struct step_output_tensor<no_step_output> {
  template <class T>
  using type = no_step_output_values<T>;
};

template <class Params, class S>
struct partials_of;
template <class... Params, class S>
struct partials_of<type_list<Params...>, S> {
  using type = type_list<derivative_t<S, Params>...>;
};

}  // namespace detail

// A compiled program: Structure is the labelled, simplified expression;
// Params the param symbols it differentiates with respect to (none: forward
// only); Table holds its run-time constants; Arch is the instruction set;
// StepOutput the labelled, simplified value every call also keeps
// (tl::step_output), or detail::no_step_output.
template <class Structure, class Params, class Table, class Storage, class Arch = xsimd::default_arch,
          class StepOutput = detail::no_step_output>
class program;

template <class Structure, class... Params, class Table, class Storage, class Arch, class StepOutput>
class program<Structure, detail::type_list<Params...>, Table, Storage, Arch, StepOutput> {
  using params_list = detail::type_list<Params...>;
  using all_nodes = detail::topological_order<Structure>;

 public:
  using value_type = typename detail::compute_type<all_nodes>::type;
  using output_shape = shape_of<Structure>;
  using result_type = tensor_for<value_type, output_shape>;
  using arch = Arch;

 private:
  using extra_outputs = typename detail::step_output_nodes<StepOutput>::type;
  // Without dropout (kernel_form.hpp's forward_form): a forward call is
  // evaluation, with batch norm folded into its convolution where that pays
  // (batch_norm_folding.hpp).
  using forward_outputs = typename detail::fold_batch_norms<decltype(detail::concatenated(
      detail::type_list<node<output_op<0, output_shape>, detail::forward_form_t<detail::kernel_form_t<Structure>>>>{},
      typename detail::forward_forms<extra_outputs>::type{}))>::type;
  using training_outputs = decltype(detail::concatenated(
      typename detail::output_nodes<Structure, typename detail::partials_of<params_list, Structure>::type,
                                    params_list>::type{},
      extra_outputs{}));

  template <class Outputs>
  using schedule_for =
      detail::schedule<typename Outputs::template apply<detail::topological_order>, params_list, value_type, Arch>;

 public:
  using forward_schedule = schedule_for<forward_outputs>;
  using training_schedule = schedule_for<training_outputs>;

  static constexpr bool trains = sizeof...(Params) > 0;

  // Does a forward call compute nothing that the step does not (no dropout,
  // no batch norm: each of its outputs is one of the step's)? Then it runs
  // the step's kernels that those outputs need (plan.hpp's kernels_needed)
  // instead of a schedule of its own: one set of kernels to compile, not two
  // (2 s of the tiny transformer example's compile time, for its validation).
  static constexpr bool forward_within_training = [] {
    if constexpr (trains)
      return detail::contains_all<forward_outputs, training_outputs>;
    else
      return false;
  }();

 private:
  using forward_runner = typename std::conditional_t<forward_within_training,
                                                     detail::part_for<training_schedule, forward_outputs>,
                                                     detail::whole_schedule_for<schedule_for, forward_outputs>>::type;

 public:
  // Kernels one call runs, and the bytes of the arena their buffers share.
  static constexpr std::size_t forward_kernels = [] {
    if constexpr (forward_within_training)
      return forward_runner::kernel_count;
    else
      return forward_schedule::plan.kernel_count;
  }();
  static constexpr std::size_t training_kernels = [] {
    if constexpr (trains)
      return training_schedule::plan.kernel_count;
    else
      return std::size_t{0};
  }();
  static constexpr std::size_t arena_bytes = [] {
    if constexpr (forward_within_training)
      return training_schedule::plan.arena_bytes;
    else if constexpr (trains)
      return std::max(forward_schedule::plan.arena_bytes, training_schedule::plan.arena_bytes);
    else
      return forward_schedule::plan.arena_bytes;
  }();

  // Bytes of the transposed copies of small weights a forward-only program
  // keeps once asked to (pack_weights; compile/packed_weights.hpp); 0 for
  // training programs, whose updates change the weights at every step.
  static constexpr std::size_t packed_weight_bytes = [] {
    if constexpr (trains)
      return std::size_t{0};
    else
      return detail::packed_weights<forward_schedule>::bytes;
  }();

  constexpr program() = default;
  explicit program(const Table& table) : constants(table) {}

  // Forward only. Returns the loss (rank 0) or the program's output tensor,
  // which stays valid until the next call.
  template <class Store, class... Bindings>
  decltype(auto) operator()(Store& params, const Bindings&... bindings) noexcept {
    if constexpr (bound<Bindings...>()) {
      detail::no_fused_update none;
      if constexpr (packed_weight_bytes > 0) {
        if (buffers_.get().packed.requested)
          run<forward_schedule, true>(false, none, params, bindings...);
        else
          run<forward_schedule>(false, none, params, bindings...);
      } else {
        run<forward_runner>(false, none, params, bindings...);
      }
    }
    if constexpr (output_shape::rank == 0)
      return result()[0];
    else
      return result();
  }

  // Forward and backward: returns the loss and writes every parameter's
  // gradient into the store (overwriting it: gradients do not accumulate).
  template <class Store, class... Bindings>
    requires(output_shape::rank == 0)
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    static_assert(trains, "tapeless: step() needs a program compiled from a loss that reads params");
    detail::no_fused_update none;
    return step_with_update(none, params, bindings...);
  }

  // Forward and backward with the update of some parameters run inside their
  // weight-gradient GEMMs (see optim/trainer.hpp): their gradients are not
  // stored. Which ones: training_schedule::fuses_update<i, Update>.
  template <class Update, class Store, class... Bindings>
    requires(output_shape::rank == 0)
  value_type step_with_update(Update& update, Store& params, const Bindings&... bindings) noexcept {
    if constexpr (bound<Bindings...>()) {
      if (run<training_schedule>(true, update, params, bindings...)) ++steps_taken;
    }
    return result()[0];
  }
  // The same for a caller that has just called check() on these params and
  // bindings and been told nothing: the checks (labels in range, span
  // sizes) are not made twice. The trainer's step, which checks first so
  // that a refused step counts no optimizer step.
  template <class Update, class Store, class... Bindings>
    requires(output_shape::rank == 0)
  value_type step_with_update_after_check(Update& update, Store& params, const Bindings&... bindings) noexcept {
    if constexpr (bound<Bindings...>()) {
      if (run<training_schedule, false, true>(true, update, params, bindings...)) ++steps_taken;
    }
    return result()[0];
  }

  // The checks a step makes of its data before it runs, alone: what
  // last_error() would say after a step on these bindings.
  template <class Store, class... Bindings>
  run_error check(Store& params, const Bindings&... bindings) noexcept {
    if constexpr (bound<Bindings...>()) {
      detail::no_fused_update none;
      const auto c = context(true, none, params, bindings...);
      // Written only when there is something to say or to clear (as in run_checked).
      if (const run_error error = validate<training_or_forward>(c);
          error.what != run_error::kind::none || last_error_.what != run_error::kind::none)
        last_error_ = error;
    }
    return last_error_;
  }

  // Opt-in for batch-1 latency: from now on, forward calls read the
  // program's transposed copies of its small weights (W^T, made here from
  // params; compile/packed_weights.hpp) instead of the weights where they lie,
  // and run those products by broadcast-and-FMA. A call makes the copies
  // again whenever params.version() differs from the one they were made
  // from, which every write through the store changes. The promise asked in
  // return: after writing through a reference or pointer kept from before a
  // call, call params.mark_changed() (or pack_weights again); builds with
  // TAPELESS_CHECK_PACKED_WEIGHTS (the default without NDEBUG) catch a
  // write that was not announced (NaN, last_error() kind stale_weight).
  // Without pack_weights, a call reads every weight as it is at that call.
  // Does nothing for a program with no such product (packed_weight_bytes 0).
  template <class Store>
  void pack_weights(const Store& params) noexcept {
    if constexpr (packed_weight_bytes > 0) {
      auto& area = buffers_.get().packed;
      detail::packed_weights<forward_schedule>::refresh(params, area.copies.bytes);
      if constexpr (requires { params.version(); }) area.made_from = params.version();
      area.requested = true;
    }
  }
  // Back to reading the weights where they lie (the copies are dropped from use).
  void unpack_weights() noexcept {
    if constexpr (packed_weight_bytes > 0) buffers_.get().packed.requested = false;
  }
  bool packs_weights() const noexcept {
    if constexpr (packed_weight_bytes > 0)
      return buffers_.get().packed.requested;
    else
      return false;
  }

  // Why the last call returned NaN without running (empty when it ran).
  const run_error& last_error() const noexcept { return last_error_; }

  // Lends the program's large kernels (GEMMs of at least
  // detail::min_work_per_share multiply-adds per share) to a pool's threads;
  // nullptr: one thread again. The pool must outlive its use here, and serve
  // one program's call at a time. Results are the same bit for bit.
  void use_threads(thread_pool* pool) noexcept { threads_ = pool; }
  thread_pool* threads() const noexcept { return threads_; }

  // Restarts dropout's random stream: seed s, step 0.
  void seed(std::uint64_t s) noexcept { random_seed = s, steps_taken = 0; }

  // The program's output (the loss, or the predicted tensor) after a call.
  const result_type& result() const noexcept { return buffers_.get().result; }

  // Does a call also keep a value (tl::compile(loss, tl::step_output(z)))?
  static constexpr bool has_step_output = !std::is_same_v<StepOutput, detail::no_step_output>;
  using step_output_type = typename detail::step_output_tensor<StepOutput>::template type<value_type>;
  // That value, as the last call (step or forward) computed it: a
  // classifier's logits, to count correct rows without a second forward
  // pass. NaN after a call whose data failed its checks.
  const step_output_type& step_output() const noexcept {
    static_assert(has_step_output,
                  "tapeless: step_output() of a program compiled without one; compile with "
                  "tl::compile(loss, tl::step_output(logits))");
    return buffers_.get().step_output;
  }

  Table constants{};
  std::uint64_t random_seed = 0;
  std::uint64_t steps_taken = 0;  // training steps run: dropout draws a new mask each

 private:
  thread_pool* threads_ = nullptr;
  using training_or_forward = std::conditional_t<trains, training_schedule, forward_schedule>;

  // Checked first, on the expression's own symbols, so that a missing input
  // stops the compiler before any schedule is instantiated.
  template <class... Bindings>
  static constexpr bool bound() {
    return detail::check_program_bindings<all_nodes, Bindings...>();
  }

  template <class Update, class Store, class... Bindings>
  auto context(bool training, Update& update, Store& params, const Bindings&... bindings) noexcept {
    // Named by a key in the kernels' symbols (compile/schedule_key.hpp); its
    // base, the context, initialized in place.
    return detail::short_named_context<detail::run_context<value_type, Store, Update, Bindings...>>{{
        params,           {bindings...}, buffers_.get().arena.bytes, buffers_.get().result.data(),
        constants.data(), random_seed,   steps_taken,                training,
        &update,          threads_,      buffers_.get().step_output.data()}};
  }

  template <class Schedule, class Ctx>
  static run_error validate(const Ctx& c) noexcept {
    using sizes = detail::checked_binding_sizes<typename detail::bound_symbols_of<all_nodes>::type>;
    const run_error error = sizes::check(c);
    return error ? error : Schedule::validate(c);
  }

  // A step over tensors this small (every node at most 4096 elements: W1
  // and a 64x64 layer at batch 1 or 32) runs as one function: its kernels,
  // the SIMD helpers they call and the context are inlined there (flatten),
  // so the context's pointers stay in registers and nothing is called out of
  // line however large the translation unit (g++ stops inlining
  // xsimd::swizzle in large ones). Kernels that stay functions of their own
  // (noinline: large GEMMs) are still called. W1 inference at batch 1: see
  // bench/results/batch1.md.
  template <class Schedule>
  static constexpr bool step_in_one_function = [] {
    for (const auto& n : Schedule::graph.nodes)
      if (n.size > 4096) return false;
    return true;
  }();

  // Runs the schedule unless the data fails its checks; then the result is
  // NaN and nothing else changes.
  // Packed: read the transposed copies of pack_weights (one function each
  // way, so neither carries the other's code). Bindings come by value: each
  // is a reference or a span, so a one-function step gets them in registers.
  // Checked: the caller has just run check() and been told nothing.
  template <class Schedule, bool Packed = false, bool Checked = false, class Update, class Store, class... Bindings>
    requires(!step_in_one_function<Schedule>)
  bool run(bool training, Update& update, Store& params, const Bindings&... bindings) noexcept {
    return run_checked<Schedule, Packed, Checked>(training, update, params, bindings...);
  }
  template <class Schedule, bool Packed = false, bool Checked = false, class Update, class Store, class... Bindings>
    requires(step_in_one_function<Schedule>)
  TAPELESS_ONE_FUNCTION_STEP bool run(bool training, Update& update, Store& params,
                                      const Bindings... bindings) noexcept {
    return run_checked<Schedule, Packed, Checked>(training, update, params, bindings...);
  }

  template <class Schedule, bool Packed, bool Checked, class Update, class Store, class... Bindings>
  TAPELESS_ALWAYS_INLINE bool run_checked(bool training, Update& update, Store& params,
                                          const Bindings&... bindings) noexcept {
    // One context, with the packed copies' address beside it when Packed
    // (a second context copied from the first stayed on the stack in a
    // large translation unit: W1 inference in bench/peers/tapeless_mlp).
    using base_context = decltype(context(training, update, params, bindings...));
    const auto full = [&]() TAPELESS_ALWAYS_INLINE_LAMBDA {
      if constexpr (Packed)
        return detail::packed_weights_context<base_context>{context(training, update, params, bindings...),
                                                            buffers_.get().packed.copies.bytes};
      else
        return context(training, update, params, bindings...);
    }();
    const base_context& c = full;
    // last_error_ written only when there is something to say or to clear:
    // at batch 1 the stores of a whole run_error per call were measurable.
    if constexpr (!Checked) {
      if (const run_error error = validate<Schedule>(c); error.what != run_error::kind::none) [[unlikely]] {
        last_error_ = error;
        buffers_.get().result.fill(std::numeric_limits<value_type>::quiet_NaN());
        if constexpr (has_step_output)
          buffers_.get().step_output.fill(std::numeric_limits<value_type>::quiet_NaN());
        return false;
      }
      if (last_error_.what != run_error::kind::none) [[unlikely]]
        last_error_ = {};
    }
    if constexpr (Packed) {
      using packing = detail::packed_weights<forward_schedule>;
      auto& area = buffers_.get().packed;
      std::byte* packed = area.copies.bytes;
      if constexpr (requires { params.version(); }) {
        if (params.version() != area.made_from) [[unlikely]] {
          packing::refresh(std::as_const(params), packed);
          area.made_from = params.version();
        } else if constexpr (TAPELESS_CHECK_PACKED_WEIGHTS) {
          if (const auto name = packing::first_stale(std::as_const(params), packed); !name.empty()) {
            last_error_ = {run_error::kind::stale_weight, name};
            buffers_.get().result.fill(std::numeric_limits<value_type>::quiet_NaN());
            return false;
          }
        }
      } else {
        packing::refresh(std::as_const(params), packed);  // a store without versions: every call
      }
      Schedule::run(full);
    } else {
      // A lent pool's workers spin through the call's serial kernels instead
      // of sleeping between its shared ones (core/thread_pool.hpp).
      if (threads_ != nullptr) threads_->stay_awake();
      Schedule::run(c);
      if (threads_ != nullptr) threads_->may_sleep();
    }
    return true;
  }

  struct buffers {
    result_type result{};
    [[no_unique_address]] step_output_type step_output{};
    detail::aligned_bytes<arena_bytes> arena{};
    [[no_unique_address]] detail::packed_weights_area<packed_weight_bytes> packed{};
  };
  detail::storage_holder<detail::resolved_storage_t<Storage, sizeof(buffers)>, buffers> buffers_{};
  run_error last_error_{};
};

namespace detail {

template <class Storage, class Arch, class E>
auto compile_expression(const E& e) {
  const auto labelled_e = tapeless::label(e);
  using S = simplified_t<typename decltype(labelled_e)::structure>;
  using symbols = typename collect_parameters<type_list<>, topological_order<S>>::type;
  using params = std::conditional_t<shape_of<S>::rank == 0, symbols, type_list<>>;
  return program<S, params, decltype(labelled_e.constants), Storage, Arch>{labelled_e.constants};
}

// A loss program that also keeps `output`'s value: output is labelled after
// the loss (its run-time constants take the slots after the loss's), so a
// subexpression of the loss without run-time constants (a model's logits) is
// the same type in both and computed once.
template <class Storage, class Arch, class E, class O>
auto compile_with_step_output(const E& e, const O& output) {
  const auto labelled_e = tapeless::label(e);
  using S = simplified_t<typename decltype(labelled_e)::structure>;
  static_assert(shape_of<S>::rank == 0,
                "tl::compile(loss, tl::step_output(z)): the first expression must be a scalar loss");
  constexpr std::size_t loss_constants = std::tuple_size_v<decltype(labelled_e.constants)>;
  const auto labelled_o = tapeless::label(output);
  constexpr std::size_t output_constants = std::tuple_size_v<decltype(labelled_o.constants)>;
  using O_structure = simplified_t<typename shifted_slots<typename decltype(labelled_o)::structure, loss_constants>::type>;
  std::array<double, loss_constants + output_constants> table{};
  for (std::size_t i = 0; i < loss_constants; ++i) table[i] = labelled_e.constants[i];
  for (std::size_t i = 0; i < output_constants; ++i) table[loss_constants + i] = labelled_o.constants[i];
  using symbols = typename collect_parameters<type_list<>, topological_order<S>>::type;
  return program<S, symbols, decltype(table), Storage, Arch, O_structure>{table};
}

}  // namespace detail

// A value a training step also returns, for tl::compile(loss, tl::step_output(z)).
template <class E>
struct step_output_expression {
  E expression;
};
template <expression E>
constexpr step_output_expression<E> step_output(const E& e) {
  return {e};
}

// An xsimd instruction set (xsimd::avx2, xsimd::avx512bw, ...).
template <class A>
concept simd_architecture = requires { A::alignment(); A::name(); } && !storage_policy<A>;

// The program computing e: with the gradient of every param when e is a
// scalar loss (step), forward only in any case (operator()).
template <storage_policy Storage = automatic_storage, simd_architecture Arch = xsimd::default_arch, expression E>
auto compile(const E& e) {
  return detail::compile_expression<Storage, Arch>(e);
}
// tl::compile<xsimd::avx2>(e): another instruction set than the default.
template <simd_architecture Arch, storage_policy Storage = automatic_storage, expression E>
auto compile(const E& e) {
  return detail::compile_expression<Storage, Arch>(e);
}

// The training program of `loss` whose every call also keeps output's value
// (program.step_output()): a classifier's logits, for its training accuracy.
template <storage_policy Storage = automatic_storage, simd_architecture Arch = xsimd::default_arch, expression E,
          class O>
auto compile(const E& loss, const step_output_expression<O>& output) {
  return detail::compile_with_step_output<Storage, Arch>(loss, output.expression);
}
template <simd_architecture Arch, storage_policy Storage = automatic_storage, expression E, class O>
auto compile(const E& loss, const step_output_expression<O>& output) {
  return detail::compile_with_step_output<Storage, Arch>(loss, output.expression);
}

}  // namespace tapeless
