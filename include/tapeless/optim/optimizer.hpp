#pragma once
// An optimizer bound to a parameter store's type: an update rule's
// hyperparameters, its state (momentum buffers, moments) sized statically for
// the store's entries, and the step count.
//
//   auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
//   opt.step(params);                 // one fused pass per parameter tensor
//   opt.set_lr(opt.base_lr() * 0.1f); // or tl::optim::apply_schedule
//   opt.reset();                      // as newly made: state, steps and lr
//
// The state is stored like the store: inside the object for inline storage,
// in one allocation made by the constructor for heap storage. step() never
// allocates and throws nothing; the constructor throws std::invalid_argument
// for hyperparameters torch.optim would refuse, before it allocates.
//
// An update rule (sgd, adagrad, rmsprop, adam, adamw) is an aggregate of
// hyperparameters that also says how many state tensors it keeps per
// parameter, computes its per-step constants once per step (in double, as
// torch does in Python) and updates one tensor in one simd::map call.

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/optim/detail/parameter_store.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tapeless::optim {

// What optimizer_for needs of a rule; see sgd.hpp for a complete one.
template <class R>
concept update_rule = requires(const R& rule, std::uint64_t step) {
  { R::state_tensors } -> std::convertible_to<std::size_t>;
  { rule.lr } -> std::convertible_to<float>;
  { rule.invalid() } -> std::convertible_to<const char*>;  // nullptr when the hyperparameters are valid
  rule.constants(step);
};

template <class Store, class Rule, class Arch = xsimd::default_arch>
class optimizer_for;

namespace detail {
// What a call with bad arguments returns, so `auto opt = ...` adds no error.
struct not_an_optimizer {};
}  // namespace detail

template <class Storage, class... Entries, class Rule, class Arch>
class optimizer_for<parameter_store<Storage, Entries...>, Rule, Arch> {
  static_assert(update_rule<Rule>,
                "tl::optim::optimizer_for<Store, Rule>: Rule is not an update rule (give "
                "tl::optim::sgd{...}, adagrad{...}, rmsprop{...}, adam{...} or adamw{...})");
  static_assert(((std::is_floating_point_v<typename Entries::element_type> || !Entries::trainable) && ...),
                "tl::optim: every trainable parameter must have a floating-point element type");

  using store_type = parameter_store<Storage, Entries...>;
  // Most rules start from zero state; adagrad starts from initial_accumulator_value.
  static constexpr bool has_initial_state = requires(const Rule& r) { r.initial_state(std::size_t{}); };
  using state_data = std::tuple<std::array<typename Entries::tensor_type, Rule::state_tensors>...>;

 public:
  using rule_type = Rule;
  using storage = typename store_type::storage;
  using entries = typename store_type::entries;

  // State tensors per parameter, and bytes of all of them.
  static constexpr std::size_t state_tensors = Rule::state_tensors;
  static constexpr std::size_t bytes = sizeof(state_data);

  explicit optimizer_for(const Rule& rule) : rule_(checked(rule)), base_lr_(rule.lr) { initialize_state(); }

  // One update of every parameter from its gradient.
  template <class S>
  void step(parameter_store<S, Entries...>& params) noexcept {
    ++steps_;
    const auto constants = rule_.constants(steps_);
    update_each(params, constants, std::index_sequence_for<Entries...>{});
  }
  template <class Other>
  void step(Other&) noexcept {
    static_assert(tapeless::detail::always_false<Other>,
                  "tl::optim::optimizer_for::step: give the (non-const) parameter store this optimizer "
                  "was made for, or one with the same entries; the store types are above");
  }

  // One step taken in pieces (tl::compile(loss, rule) updates some
  // parameters inside the backward pass): begin_step() counts the step and
  // gives its constants; update_entry<I> updates parameter I alone.
  auto begin_step() noexcept {
    ++steps_;
    return rule_.constants(steps_);
  }
  template <std::size_t I, class S, class Constants>
  void update_entry(parameter_store<S, Entries...>& params, const Constants& constants) noexcept {
    if constexpr (type_at_t<I>::trainable)
      update_one(params.template value_at<I>(), params.template grad_at<I>(), std::get<I>(holder_.get()), constants);
  }

  // The learning rate the next step uses, and the one the rule was made with.
  float lr() const noexcept { return rule_.lr; }
  void set_lr(float lr) noexcept { rule_.lr = lr; }
  float base_lr() const noexcept { return base_lr_; }

  // Steps taken since construction or reset(); set_steps restores the count
  // of a checkpoint (the bias corrections of adam read it).
  std::uint64_t steps() const noexcept { return steps_; }
  void set_steps(std::uint64_t steps) noexcept { steps_ = steps; }

  const Rule& rule() const noexcept { return rule_; }

  // Back to the state of a new optimizer: zero (or initial) state, no steps,
  // lr = base_lr(). Allocates nothing.
  void reset() noexcept {
    rule_.lr = base_lr_;
    steps_ = 0;
    initialize_state();
  }

  // A parameter's state tensors, by name or position (for checkpoints); what
  // each holds is listed in its rule's header.
  template <fixed_string Name>
  auto& state() noexcept {
    return state_at<index_of<Name>()>();
  }
  template <fixed_string Name>
  const auto& state() const noexcept {
    return state_at<index_of<Name>()>();
  }
  template <std::size_t I>
  auto& state_at() noexcept {
    return std::get<I>(holder_.get());
  }
  template <std::size_t I>
  const auto& state_at() const noexcept {
    return std::get<I>(holder_.get());
  }

 private:
  static const Rule& checked(const Rule& rule) {
    if (const char* why = rule.invalid()) throw std::invalid_argument(why);
    return rule;
  }

  template <std::size_t I>
  using type_at_t = typename tapeless::detail::type_at<I, entries>::type;

  template <fixed_string Name>
  static constexpr std::size_t index_of() {
    constexpr std::size_t i = tapeless::detail::name_index<Name, Entries::name...>;
    if constexpr (i < sizeof...(Entries))
      return i;
    else
      return tapeless::detail::no_parameter_named<Name, entries>::ok;
  }

  template <class S, class Constants, std::size_t... I>
  void update_each(parameter_store<S, Entries...>& params, const Constants& constants,
                   std::index_sequence<I...>) noexcept {
    // Buffers (batch norm's running statistics) are not trained: skipped.
    (
        [&] {
          if constexpr (Entries::trainable)
            update_one(params.template value_at<I>(), params.template grad_at<I>(), std::get<I>(holder_.get()),
                       constants);
        }(),
        ...);
  }

  // Always inlined (as sgd::update): in a small model's flattened trainer
  // step (trainer.hpp) the bias updates then run with their sizes known.
  template <class Tensor, class Constants>
  [[gnu::always_inline]] void update_one(Tensor& value, const Tensor& grad, std::array<Tensor, state_tensors>& state,
                  const Constants& constants) noexcept {
    using T = typename Tensor::value_type;
    std::array<T*, state_tensors> buffers;
    for (std::size_t k = 0; k < state_tensors; ++k) buffers[k] = state[k].data();
    rule_.template update<Arch>(constants, Tensor::size(), value.data(), grad.data(), buffers);
  }

  void initialize_state() noexcept {
    std::apply(
        [&](auto&... per_parameter) {
          (..., [&](auto& buffers) {
            for (std::size_t k = 0; k < state_tensors; ++k) {
              using T = typename std::remove_cvref_t<decltype(buffers[k])>::value_type;
              if constexpr (has_initial_state)
                buffers[k].fill(static_cast<T>(rule_.initial_state(k)));
              else
                buffers[k].fill(T(0));
            }
          }(per_parameter));
        },
        holder_.get());
  }

  Rule rule_;
  float base_lr_;
  std::uint64_t steps_ = 0;
  tapeless::detail::storage_holder<storage, state_data> holder_{};
};

// The optimizer for params' type and the given rule. params is read for its
// type only; pass it again to each step.
template <class Arch = xsimd::default_arch, class Store, class Rule>
auto optimizer(const Store&, const Rule& rule) {
  static_assert(detail::is_parameter_store<Store>,
                "tl::optim::optimizer(params, rule): the first argument must be a parameter store "
                "(tl::parameters_of(loss))");
  static_assert(update_rule<Rule>,
                "tl::optim::optimizer(params, rule): the second argument must be an update rule: "
                "tl::optim::sgd{...}, adagrad{...}, rmsprop{...}, adam{...} or adamw{...}");
  if constexpr (detail::is_parameter_store<Store> && update_rule<Rule>)
    return optimizer_for<Store, Rule, Arch>(rule);
  else
    return detail::not_an_optimizer{};  // stop at the message above
}

}  // namespace tapeless::optim
