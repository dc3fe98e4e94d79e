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
// Parameter groups and freezing, as torch's param_groups and
// requires_grad = False (a name is a parameter's, or a layer's: "fc1" is
// "fc1.weight" and "fc1.bias"):
//
//   opt.set_group<"fc2">(tl::optim::adamw{.lr = 1e-2f, .weight_decay = 0});  // own hyperparameters
//   opt.freeze<"fc1">();              // no update, no state touched, no weight decay
//   opt.unfreeze<"fc1">();            // its step count goes on from where it stopped
//
// Each parameter counts its own steps, as torch keeps "step" per parameter:
// a parameter frozen for k steps and then unfrozen starts its bias
// corrections (adam's) at 1, as in torch.
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
#include <tapeless/optim/detail/hyperparameters.hpp>
#include <tapeless/optim/detail/parameter_store.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
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
  // sgd has a plain case (no momentum, no weight decay) that a small model's
  // trainer runs with nothing tested (all_plain).
  static constexpr bool has_plain_case = requires(const Rule& r) { r.plain(); };
  using storage = typename store_type::storage;
  using entries = typename store_type::entries;

  // State tensors per parameter, and bytes of all of them.
  static constexpr std::size_t state_tensors = Rule::state_tensors;
  static constexpr std::size_t bytes = sizeof(state_data);

  static constexpr std::size_t entry_count = sizeof...(Entries);

  explicit optimizer_for(const Rule& rule) : rule_(checked(rule)), base_lr_(rule.lr) {
    for (auto& e : entries_) e.rule = rule_, e.base_lr = base_lr_;
    initialize_state();
    refresh_flags();
  }

  // One update of every parameter that is not frozen, from its gradient.
  template <class S>
  void step(parameter_store<S, Entries...>& params) noexcept {
    begin_step();
    const auto common = rule_.constants(steps_);  // of every entry that has its defaults
    update_each(params, common, std::index_sequence_for<Entries...>{});
  }
  template <class Other>
  void step(Other&) noexcept {
    static_assert(tapeless::detail::always_false<Other>,
                  "tl::optim::optimizer_for::step: give the (non-const) parameter store this optimizer "
                  "was made for, or one with the same entries; the store types are above");
  }

  // One step taken in pieces (tl::compile(loss, rule) updates some
  // parameters inside the backward pass): begin_step() counts the step (and
  // each parameter's that is not frozen); update_entry<I> then updates
  // parameter I alone, with entry_constants(I).
  void begin_step() noexcept {
    ++steps_;
    if (!any_frozen_) [[likely]] {
      for (std::size_t i = 0; i < entry_count; ++i)
        if (trainable[i]) ++entries_[i].steps;
    } else {
      for (std::size_t i = 0; i < entry_count; ++i)
        if (trainable[i] && !entries_[i].frozen) ++entries_[i].steps;
    }
  }

  // Is every entry Which selects updated by plain SGD (its rule's plain(),
  // and not frozen)? Kept up to date by set_group and freezing, the only
  // changes that can alter it (plain() reads no lr), so a small model's
  // trainer asks once per step in a few instructions where testing each
  // entry's rule took about 50 (W1, bench/results/batch1.md).
  template <std::array<bool, sizeof...(Entries)> Which>
    requires has_plain_case
  TAPELESS_ALWAYS_INLINE bool all_plain() const noexcept {
    return [&]<std::size_t... W>(std::index_sequence<W...>) {
      return (((not_plain_[W] & word_of<Which>(W)) == 0) && ...);
    }(std::make_index_sequence<flag_words>{});
  }
  // Always inlined: a small model's trainer step is flattened, but in a
  // translation unit with several trainers of one store g++ 12 left these
  // calls out of line (bench/peers/tapeless_mlp: three per W1 step).
  template <std::size_t I, class S>
  TAPELESS_ALWAYS_INLINE void update_entry(parameter_store<S, Entries...>& params) noexcept {
    if constexpr (type_at_t<I>::trainable)
      if (!entries_[I].frozen)
        update_one<I>(params.template value_at<I>(), params.template grad_at<I>(), entry_constants(I));
  }
  // The constants of entry i's update in the step begun.
  auto entry_constants(std::size_t i) const noexcept { return entries_[i].rule.constants(entries_[i].steps); }
  // Parameter I's update, in the step begun, of its elements [first, first +
  // count) alone, from their gradients at `grad` (count values): processes
  // that share a step each update a part (tl::dist's sharded update). Every
  // rule updates element by element, so the parts make the whole update.
  template <std::size_t I, class S, class T>
  void update_entry_part(parameter_store<S, Entries...>& params, std::size_t first, std::size_t count,
                         const T* grad) noexcept {
    static_assert(std::is_same_v<T, typename type_at_t<I>::element_type>,
                  "tl::optim::optimizer_for::update_entry_part: the gradients' type is not the parameter's");
    if constexpr (type_at_t<I>::trainable)
      if (!entries_[I].frozen)
        update_range<I>(params.template value_at<I>().data(), grad, first, count, entry_constants(I));
  }

  // The learning rate the next step uses, and the one the rule was made with
  // (of the parameters in no group of their own).
  float lr() const noexcept { return rule_.lr; }
  void set_lr(float lr) noexcept {
    rule_.lr = lr;
    for (auto& e : entries_)
      if (!e.grouped) e.rule.lr = lr;
  }
  float base_lr() const noexcept { return base_lr_; }

  // Sets every group's learning rate to lr_for(that group's base lr), as
  // torch's schedulers set each param group's (apply_schedule calls it).
  // Returns false, changing nothing, if one of them is not finite and >= 0.
  template <class F>
  bool set_lr_from_base(F&& lr_for) {
    const float common = static_cast<float>(lr_for(base_lr_));
    if (!detail::finite_non_negative(common)) return false;
    std::array<float, entry_count> lrs{};
    for (std::size_t i = 0; i < entry_count; ++i) {
      lrs[i] = entries_[i].grouped ? static_cast<float>(lr_for(entries_[i].base_lr)) : common;
      if (!detail::finite_non_negative(lrs[i])) return false;
    }
    rule_.lr = common;
    for (std::size_t i = 0; i < entry_count; ++i) entries_[i].rule.lr = lrs[i];
    return true;
  }

  // Steps taken since construction or reset(); set_steps restores the count
  // of a checkpoint (the bias corrections of adam read it), for every
  // parameter alike.
  std::uint64_t steps() const noexcept { return steps_; }
  void set_steps(std::uint64_t steps) noexcept {
    steps_ = steps;
    for (auto& e : entries_) e.steps = steps;
  }

  // The rule of the parameters in no group, as made or as the schedule left it.
  const Rule& rule() const noexcept { return rule_; }

  // Parameter groups: the parameters Names (each a parameter's name, or a
  // layer's: "fc1" names "fc1.weight" and "fc1.bias") are updated with
  // `rule` (its lr is their base lr for schedules) from now on, as a torch
  // param_group with its own hyperparameters. Their state and step counts
  // are kept. Throws std::invalid_argument, changing nothing, for
  // hyperparameters the rule's constructor would refuse.
  template <fixed_string... Names>
  void set_group(const Rule& rule) {
    checked(rule);
    constexpr auto chosen = matching<Names...>();
    for (std::size_t i = 0; i < entry_count; ++i)
      if (chosen[i]) entries_[i].rule = rule, entries_[i].base_lr = rule.lr, entries_[i].grouped = true;
    refresh_flags();
  }

  // Frozen parameters are left exactly as they are by step(): no update, no
  // weight decay, their state and step counts untouched (torch's
  // requires_grad = False). Names as set_group's.
  template <fixed_string... Names>
  void freeze() noexcept {
    set_frozen<Names...>(true);
  }
  template <fixed_string... Names>
  void unfreeze() noexcept {
    set_frozen<Names...>(false);
  }
  // Is every parameter Name names frozen?
  template <fixed_string Name>
  bool is_frozen() const noexcept {
    constexpr auto chosen = matching<Name>();
    for (std::size_t i = 0; i < entry_count; ++i)
      if (chosen[i] && !entries_[i].frozen) return false;
    return true;
  }

  // Entry i's (a parameter's, by store position): the hyperparameters it is
  // updated with, its base lr, the updates it has had, and whether it is
  // frozen. The checkpoint functions read and restore them.
  const Rule& entry_rule(std::size_t i) const noexcept { return entries_[i].rule; }
  float entry_base_lr(std::size_t i) const noexcept { return entries_[i].base_lr; }
  std::uint64_t entry_steps(std::size_t i) const noexcept { return entries_[i].steps; }
  bool entry_frozen(std::size_t i) const noexcept { return entries_[i].frozen; }
  void set_entry_steps(std::size_t i, std::uint64_t steps) noexcept { entries_[i].steps = steps; }
  void set_entry_lr(std::size_t i, float lr) noexcept { entries_[i].rule.lr = lr; }
  void set_entry_frozen(std::size_t i, bool frozen) noexcept {
    entries_[i].frozen = frozen;
    refresh_flags();
  }

  // Parameter Name's (a full name): its learning rate now, and its updates.
  template <fixed_string Name>
  float lr_of() const noexcept {
    return entries_[index_of<Name>()].rule.lr;
  }
  template <fixed_string Name>
  std::uint64_t steps_of() const noexcept {
    return entries_[index_of<Name>()].steps;
  }

  // Back to the state of a new optimizer: zero (or initial) state, no steps,
  // every group's lr its base lr. Groups and frozen parameters stay as they
  // were set. Allocates nothing.
  void reset() noexcept {
    rule_.lr = base_lr_;
    steps_ = 0;
    for (auto& e : entries_) e.rule.lr = e.grouped ? e.base_lr : base_lr_, e.steps = 0;
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

  static constexpr std::array<bool, sizeof...(Entries)> trainable{Entries::trainable...};

  // Which entries a name selects: its own, or a layer's ("fc1": "fc1.*").
  template <fixed_string Name>
  static constexpr std::array<bool, sizeof...(Entries)> matching_one() {
    constexpr std::string_view names[] = {Entries::name.view()...};
    std::array<bool, sizeof...(Entries)> chosen{};
    const std::string_view name = Name.view();
    for (std::size_t i = 0; i < sizeof...(Entries); ++i)
      chosen[i] = names[i] == name ||
                  (names[i].size() > name.size() && names[i].starts_with(name) && names[i][name.size()] == '.');
    return chosen;
  }
  static constexpr bool any_of(const std::array<bool, sizeof...(Entries)>& chosen) {
    for (bool b : chosen)
      if (b) return true;
    return false;
  }
  template <fixed_string... Names>
  static constexpr std::array<bool, sizeof...(Entries)> matching() {
    static_assert(sizeof...(Names) > 0,
                  "tl::optim::optimizer_for: name the parameters, e.g. opt.freeze<\"fc1\">() or "
                  "opt.set_group<\"fc2.weight\", \"fc2.bias\">(rule)");
    std::array<bool, sizeof...(Entries)> chosen{};
    (
        [&] {
          constexpr auto one = matching_one<Names>();
          if constexpr (!any_of(one)) (void)tapeless::detail::no_parameter_named<Names, entries>::ok;
          for (std::size_t i = 0; i < sizeof...(Entries); ++i) chosen[i] = chosen[i] || one[i];
        }(),
        ...);
    return chosen;
  }

  template <fixed_string... Names>
  void set_frozen(bool frozen) noexcept {
    constexpr auto chosen = matching<Names...>();
    for (std::size_t i = 0; i < entry_count; ++i)
      if (chosen[i]) entries_[i].frozen = frozen;
    refresh_flags();
  }

  // Entries' flags as bits, 64 a word: all_plain's.
  static constexpr std::size_t flag_words = has_plain_case ? (sizeof...(Entries) + 63) / 64 : 0;
  template <std::array<bool, sizeof...(Entries)> Which>
  static constexpr std::uint64_t word_of(std::size_t w) noexcept {
    std::uint64_t bits = 0;
    for (std::size_t i = 64 * w; i < entry_count && i < 64 * (w + 1); ++i)
      if (Which[i]) bits |= std::uint64_t{1} << (i % 64);
    return bits;
  }
  // What begin_step and all_plain read, made again after each change of an
  // entry's rule or frozen flag.
  void refresh_flags() noexcept {
    any_frozen_ = false;
    not_plain_ = {};
    for (std::size_t i = 0; i < entry_count; ++i) {
      any_frozen_ = any_frozen_ || entries_[i].frozen;
      if constexpr (has_plain_case)
        if (entries_[i].frozen || !entries_[i].rule.plain()) not_plain_[i / 64] |= std::uint64_t{1} << (i % 64);
    }
  }

  template <class S, class Constants, std::size_t... I>
  void update_each(parameter_store<S, Entries...>& params, const Constants& common,
                   std::index_sequence<I...>) noexcept {
    // Buffers (batch norm's running statistics) are not trained: skipped.
    (
        [&] {
          if constexpr (Entries::trainable) {
            const auto& e = entries_[I];
            if (e.frozen) return;
            // An entry with the defaults, updated at every step, shares the step's constants.
            if (!e.grouped && e.steps == steps_)
              update_one<I>(params.template value_at<I>(), params.template grad_at<I>(), common);
            else
              update_one<I>(params.template value_at<I>(), params.template grad_at<I>(), entry_constants(I));
          }
        }(),
        ...);
  }

  // Always inlined (as sgd::update): in a small model's flattened trainer
  // step (trainer.hpp) the bias updates then run with their sizes known.
  template <std::size_t I, class Tensor, class Constants>
  TAPELESS_ALWAYS_INLINE void update_one(Tensor& value, const Tensor& grad, const Constants& constants) noexcept {
    update_range<I>(value.data(), grad.data(), 0, Tensor::size(), constants);
  }
  // Parameter I's elements [first, first + count) (values at value + first,
  // with their optimizer state), from their gradients at grad.
  template <std::size_t I, class T, class Constants>
  TAPELESS_ALWAYS_INLINE void update_range(T* value, const T* grad, std::size_t first, std::size_t count,
                                           const Constants& constants) noexcept {
    auto& state = std::get<I>(holder_.get());
    std::array<T*, state_tensors> buffers;
    for (std::size_t k = 0; k < state_tensors; ++k) buffers[k] = state[k].data() + first;
    entries_[I].rule.template update<Arch>(constants, count, value + first, grad, buffers);
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

  // What each parameter is updated with: its group's rule (or a copy of
  // rule_), the lr its group was made with, its own step count.
  struct entry_settings {
    Rule rule{};
    float base_lr = 0;
    std::uint64_t steps = 0;
    bool grouped = false;  // set_group gave it its own rule: set_lr leaves it alone
    bool frozen = false;
  };

  Rule rule_;
  float base_lr_;
  bool any_frozen_ = false;  // beside base_lr_, in what was padding
  std::uint64_t steps_ = 0;
  std::array<entry_settings, sizeof...(Entries)> entries_{};
  // Entry i is bit i % 64 of word i / 64; nothing for rules without plain()
  // (an empty std::array still takes 8 bytes here).
  struct no_flags {};
  [[no_unique_address]] std::conditional_t<(flag_words > 0), std::array<std::uint64_t, flag_words>, no_flags>
      not_plain_{};
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
