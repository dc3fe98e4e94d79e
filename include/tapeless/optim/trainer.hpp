#pragma once
// tl::compile(loss, rule): a training program with its optimizer, so that one
// call runs forward, backward and the update.
//
//   auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f});
//   auto params = tl::parameters_of(loss);
//   float l = trainer.step(params, X = xbatch, Y = ybatch);   // forward, backward, update
//   trainer.optimizer().set_lr(0.01f);                        // schedules, state
//   const auto& z = trainer(params, X = xbatch);              // forward only (loss)
//   tl::compile(loss, rule, tl::step_output(logits))          // trainer.step_output(): the step's logits
//
// With sgd, a weight whose gradient comes out of a GEMM (a linear layer's) is
// updated in that GEMM's epilogue, while the gradient is in registers: it is
// never stored (params.grad of such weights is left as it was), and the
// momentum buffer is read and written in the same pass. Likewise a
// parameter whose gradient is a sum (a bias's, over the batch) is updated
// where that sum ends (compile/kernels/reduce.hpp). The compiler does this
// only where no later kernel of the step reads the parameter. Every other
// parameter (all of them with other rules) is updated after the backward
// pass, one fused loop per tensor. The result is the same as program.step
// followed by optimizer.step.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/expr/parameters_of.hpp>
#include <tapeless/compile/program.hpp>
#include <tapeless/optim/optimizer.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>

namespace tapeless {

namespace optim {

namespace detail {

// A store of at most 4096 scalars (W1 and smaller): its trainer's step is flattened.
template <class Store>
inline constexpr bool small_store = [] {
  if constexpr (requires { Store::scalar_count; })
    return Store::scalar_count <= 4096;
  else
    return false;
}();

// The hook a program calls for the GEMMs it may fuse an update into. The
// step's scalars live here, read by the epilogues through a pointer.
template <class Rule>
inline constexpr std::size_t epilogue_scalar_count = [] {
  if constexpr (requires { Rule::epilogue_scalars; })
    return Rule::epilogue_scalars;
  else
    return std::size_t{1};
}();

// PlainCapable: a small model's step, which may be told (plain) that every
// update a kernel runs is the rule's plain_update (sgd without momentum or
// weight decay, on a parameter not frozen); its update kernels then take a
// branch that tests nothing else, built beside the general one.
template <class Optimizer, bool PlainCapable = false>
struct gemm_update {
  using rule_type = typename Optimizer::rule_type;
  static constexpr bool rule_fuses = requires(const rule_type& rule, const float* s, float* p) {
    rule.epilogue(s, p, std::size_t{}, bool{});
  };
  static constexpr std::size_t scalar_count = epilogue_scalar_count<rule_type>;

  static constexpr bool plain_capable = PlainCapable;

  Optimizer& optimizer;
  bool plain = false;
  // As many as the rule says it fills, per store entry (each has its own
  // hyperparameters and step count); filled by epilogue(), for the entries
  // whose update a kernel runs, when that kernel asks for it.
  float scalars[Optimizer::entry_count][scalar_count];

  // After optimizer.begin_step().
  explicit gemm_update(Optimizer& o) : optimizer(o) {}

  template <std::size_t Param>
  static constexpr bool fuses = rule_fuses;

  template <std::size_t Param, class Tensor>
  auto epilogue(Tensor&) noexcept {
    using T = typename Tensor::value_type;
    static_assert(std::is_same_v<T, float>, "tl::compile(loss, rule): fused updates are for float parameters");
    // Param counts the program's params; the optimizer's state is per store entry (buffers included).
    constexpr std::size_t entry = trainable_positions<typename Optimizer::entries>::store_index(Param);
    optimizer.entry_rule(entry).fill_epilogue_scalars(optimizer.entry_constants(entry), scalars[entry]);
    return optimizer.entry_rule(entry).epilogue(static_cast<const T*>(scalars[entry]),
                                                optimizer.template state_at<entry>()[0].data(),
                                                Tensor::size() / Tensor::extent(0), optimizer.entry_frozen(entry));
  }

  // The same update when plain is set: p - lr g, with only lr to read.
  template <std::size_t Param, class Tensor>
  auto plain_epilogue(Tensor&) noexcept {
    using T = typename Tensor::value_type;
    constexpr std::size_t entry = trainable_positions<typename Optimizer::entries>::store_index(Param);
    return typename rule_type::template plain_update<T>{-optimizer.entry_rule(entry).lr};
  }
};

}  // namespace detail

template <class Program, class Optimizer>
class trainer {
 public:
  using program_type = Program;
  using optimizer_type = Optimizer;
  using value_type = typename Program::value_type;

  trainer(Program program, Optimizer optimizer) : program_(std::move(program)), optimizer_(std::move(optimizer)) {}

  // A step whose data fails the program's checks (program().last_error())
  // returns NaN and changes nothing: no parameter, no optimizer state.
  template <class Store, class... Bindings>
    requires(!detail::small_store<Store>)
  value_type step(Store& params, const Bindings&... bindings) noexcept {
    return step_here(params, bindings...);
  }
  // A small model's step (W1 at batch 1): the updates left after the
  // backward pass (biases) are inlined with their sizes known, not called
  // (three calls of sgd::update per W1 step, about 10% of it). The program's
  // own step stays one call (program.hpp). noinline: a flattened function
  // inlined into its caller is not flattened there (g++ 12), and in a
  // caller's loop the bias updates were three calls of simd::map again.
  template <class Store, class... Bindings>
    requires(detail::small_store<Store>)
  [[gnu::noinline]] TAPELESS_FLATTEN value_type step(Store& params, const Bindings&... bindings) noexcept {
    return step_here(params, bindings...);
  }

  // Is parameter I updated inside the backward pass (its gradient never stored)?
  template <std::size_t I>
  static constexpr bool updates_in_gemm = Program::training_schedule::template fuses_update<
      I, detail::gemm_update<Optimizer>>;

  template <class Store, class... Bindings>
  decltype(auto) operator()(Store& params, const Bindings&... bindings) noexcept {
    return program_(params, bindings...);
  }

  // The value each step also keeps (tl::compile(loss, rule, tl::step_output(z))).
  decltype(auto) step_output() const noexcept { return program_.step_output(); }

  Program& program() noexcept { return program_; }
  void seed(std::uint64_t s) noexcept { program_.seed(s); }
  // See program::use_threads.
  void use_threads(thread_pool* pool) noexcept { program_.use_threads(pool); }
  Optimizer& optimizer() noexcept { return optimizer_; }

 private:
  template <class Store, class... Bindings>
  TAPELESS_ALWAYS_INLINE value_type step_here(Store& params, const Bindings&... bindings) noexcept {
    if (program_.check(params, bindings...)) return std::numeric_limits<value_type>::quiet_NaN();
    optimizer_.begin_step();
    constexpr bool plain_capable = detail::small_store<Store> && Optimizer::has_plain_case;
    detail::gemm_update<Optimizer, plain_capable> update(optimizer_);
    if constexpr (plain_capable) {
      // Checked once here, off the backward pass: its update kernels then
      // test one flag, where making each update's flags and scalars between
      // them was about 5% of W1's step at batch 1.
      update.plain = fused_updates_plain<decltype(update), Store>(std::make_index_sequence<Store::count>{});
    }
    const value_type loss = program_.step_with_update_after_check(update, params, bindings...);
    update_rest<decltype(update)>(params, std::make_index_sequence<Store::count>{});
    return loss;
  }

  // Does a kernel of the program update store entry I? Entry I is the
  // program's param program_index(I) when it is trainable.
  template <class Update, class Store, std::size_t I>
  static constexpr bool updated_by_a_kernel = [] {
    using positions = detail::trainable_positions<typename Store::entries>;
    if constexpr (positions::trainable[I])
      return Program::training_schedule::template fuses_update<positions::program_index(I), Update>;
    else
      return false;
  }();

  // Is every update the program runs plain SGD on a parameter not frozen?
  template <class Update, class Store, std::size_t... I>
  TAPELESS_ALWAYS_INLINE bool fused_updates_plain(std::index_sequence<I...>) const noexcept {
    return optimizer_.template all_plain<std::array<bool, Store::count>{updated_by_a_kernel<Update, Store, I>...}>();
  }

  // The entries no kernel updated; buffers are not updated (update_entry skips them).
  template <class Update, class Store, std::size_t... I>
  void update_rest(Store& params, std::index_sequence<I...>) noexcept {
    ((updated_by_a_kernel<Update, Store, I> ? void() : optimizer_.template update_entry<I>(params)), ...);
  }

  Program program_;
  Optimizer optimizer_;
};

}  // namespace optim

namespace optim::detail {

template <class Storage, class Arch, class E, class Rule, class... StepOutput>
auto compile_trainer(const E& loss, const Rule& rule, const StepOutput&... output) {
  auto program = tapeless::compile<Storage, Arch>(loss, output...);
  static_assert(decltype(program)::trains, "tl::compile(loss, rule): the loss must be a scalar that reads params");
  using store = parameters_of_t<Storage, E>;
  using optimizer_type = optim::optimizer_for<store, Rule, Arch>;
  return optim::trainer<decltype(program), optimizer_type>(std::move(program), optimizer_type(rule));
}

}  // namespace optim::detail

template <storage_policy Storage = automatic_storage, simd_architecture Arch = xsimd::default_arch, expression E,
          optim::update_rule Rule>
auto compile(const E& loss, const Rule& rule) {
  return optim::detail::compile_trainer<Storage, Arch>(loss, rule);
}
template <simd_architecture Arch, storage_policy Storage = automatic_storage, expression E, optim::update_rule Rule>
auto compile(const E& loss, const Rule& rule) {
  return optim::detail::compile_trainer<Storage, Arch>(loss, rule);
}
// A trainer whose steps also keep output's value (trainer.step_output()).
template <storage_policy Storage = automatic_storage, simd_architecture Arch = xsimd::default_arch, expression E,
          optim::update_rule Rule, class O>
auto compile(const E& loss, const Rule& rule, const step_output_expression<O>& output) {
  return optim::detail::compile_trainer<Storage, Arch>(loss, rule, output);
}

}  // namespace tapeless
