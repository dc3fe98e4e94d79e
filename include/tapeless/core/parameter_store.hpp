#pragma once
// The parameter store: every trainable parameter of a model, by name, with a
// statically shaped value and gradient each, and its buffers: state kept
// beside the parameters (batch norm's running statistics), saved and loaded
// with them but not trainable (no optimizer or clipping touches them; their
// gradient slot stays zero).
//
//   auto params = tl::parameters_of(loss);        // the params `loss` reads
//   params.get<"fc1.weight">()                    // tl::tensor<float, 256, 784>&
//   params.grad<"fc1.weight">()                   // its gradient after a step
//   params.get(W), params.grad(W)                 // the same, by symbol
//   params.visit([](std::string_view name, auto& value, auto& grad) { ... });  // all entries
//   params.visit_trainable(...)                   // the trainable parameters alone
//
// Storage is the user's choice (core/storage.hpp): parameters_of<tl::inline_storage>(e)
// keeps the tensors inside the object (no heap at all: small models on a
// real-time thread); parameters_of<tl::heap_storage>(e) allocates them once,
// in the constructor. The default picks inline storage up to 64 KiB.
//
// Stores copy by value (a deep copy), which is what "keep the best weights"
// needs; copying allocates only for heap storage, and never while stepping.
//
// Every path that can change a value (get, value_at, visit, visit_trainable,
// visit_entries without const, reset_to_initial_values, assignment, and so
// every optimizer, initializer and file load) advances the store's
// version(). A program reads the values where they lie at each call, so any
// write shows in the next call. The exception is asked for: a forward-only
// program after program.pack_weights(params) keeps a transposed copy of its
// small weights (compile/packed_weights.hpp) and makes it again when the
// version has changed since its last call. A reference or pointer kept from
// before such a program's last call and written through after it is the one
// write the store cannot see: call params.mark_changed() after such writes
// (or take the reference again). Builds with TAPELESS_CHECK_PACKED_WEIGHTS
// (the default without NDEBUG) catch a write that was not announced: the
// program then returns NaN and last_error() names the parameter.
// The store sits below the compiler: optimizers, initializers and files use
// it without including compile/.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/name_lookup.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/core/type_list.hpp>

namespace tapeless {

namespace detail {

// The value an entry starts at, by PyTorch's conventions for its names: a
// norm layer's scale (a trainable 1-D "*.weight") and a running variance
// ("*.running_var") start at 1, everything else at 0 (random initializers
// then fill the weights of rank 2 and more).
constexpr double initial_value_of(std::string_view name, std::size_t rank, bool trainable) {
  auto ends_with = [&](std::string_view tail) {
    return name.size() >= tail.size() && name.substr(name.size() - tail.size()) == tail;
  };
  if (trainable) return rank == 1 && ends_with(".weight") ? 1.0 : 0.0;
  return ends_with("running_var") ? 1.0 : 0.0;
}

}  // namespace detail

// One entry: a name, an element type and a shape; a trainable parameter, or a buffer.
template <fixed_string Name, class T, class Shape, bool Trainable = true>
struct parameter_entry {
  static constexpr fixed_string name = Name;
  using element_type = T;
  using shape_type = Shape;
  using tensor_type = tensor_for<T, Shape>;
  static constexpr bool trainable = Trainable;
  static constexpr double initial_value = detail::initial_value_of(Name.view(), Shape::rank, Trainable);
};

namespace detail {

template <fixed_string Name, class Entries>
struct no_parameter_named {
  static_assert(always_false<Entries>,
                "tapeless: this parameter store has no parameter of that name; the name and "
                "the store's entries are in the template arguments above");
  static constexpr bool ok = false;
};

// All of a store's tensors in one object, so heap storage is one allocation.
template <class... Entries>
struct parameter_tensors {
  std::tuple<typename Entries::tensor_type...> values{};
  std::tuple<typename Entries::tensor_type...> grads{};
};

// A number no other store has had in this process: only stores are made
// with it (never in a step), so the one shared counter is not on a hot path.
inline std::uint64_t next_store_identity() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// A store's identity and count of possible writes. A copy is another store
// (a new identity); assigning counts as a write of every value.
struct store_stamp {
  std::uint64_t identity = next_store_identity();
  std::uint64_t writes = 0;
  store_stamp() noexcept = default;
  store_stamp(const store_stamp&) noexcept {}
  store_stamp& operator=(const store_stamp&) noexcept {
    ++writes;
    return *this;
  }
};

}  // namespace detail

// Which contents a store had: equal versions of one store mean that nothing
// changed in between through any path the store can see (see the top).
struct store_version {
  std::uint64_t identity = 0;  // no store has 0
  std::uint64_t writes = 0;
  // Both words compared at once, one branch (a forward program asks at every call).
  friend constexpr bool operator==(const store_version& a, const store_version& b) noexcept {
    return ((a.identity ^ b.identity) | (a.writes ^ b.writes)) == 0;
  }
};

template <class Storage, class... Entries>
class parameter_store {
  using data_type = detail::parameter_tensors<Entries...>;

 public:
  using storage = detail::resolved_storage_t<Storage, sizeof(data_type)>;
  using entries = detail::type_list<Entries...>;

  // Number of tensors (parameters and buffers), and of scalars in all of them.
  static constexpr std::size_t count = sizeof...(Entries);
  static constexpr std::size_t trainable_count = (std::size_t{0} + ... + std::size_t{Entries::trainable});
  static constexpr std::size_t scalar_count = (std::size_t{0} + ... + Entries::shape_type::size);
  // Bytes of values and gradients together.
  static constexpr std::size_t bytes = sizeof(data_type);

  static constexpr std::array<std::string_view, count> names{Entries::name.view()...};

  // Is there a parameter called Name?
  template <fixed_string Name>
  static constexpr bool has = detail::name_index<Name, Entries::name...> < count;

  // Parameters start at zero, except those PyTorch starts at 1 (a norm
  // layer's scale, a running variance): parameter_entry::initial_value.
  parameter_store() {
    visit_entries([](auto entry, auto& value, auto&) {
      using E = decltype(entry);
      if constexpr (E::initial_value != 0) value.fill(static_cast<typename E::element_type>(E::initial_value));
    });
  }

  // Every entry back to its initial value (gradients untouched).
  constexpr void reset_to_initial_values() noexcept {
    ++stamp_.writes;
    visit_entries([](auto entry, auto& value, auto&) {
      using E = decltype(entry);
      value.fill(static_cast<typename E::element_type>(E::initial_value));
    });
  }

  template <fixed_string Name>
  constexpr auto& get() noexcept {
    ++stamp_.writes;
    return std::get<checked_index<Name>()>(holder_.get().values);
  }
  template <fixed_string Name>
  constexpr const auto& get() const noexcept {
    return std::get<checked_index<Name>()>(holder_.get().values);
  }
  template <fixed_string Name>
  constexpr auto& grad() noexcept {
    return std::get<checked_index<Name>()>(holder_.get().grads);
  }
  template <fixed_string Name>
  constexpr const auto& grad() const noexcept {
    return std::get<checked_index<Name>()>(holder_.get().grads);
  }

  // By symbol: params.get(W) for W = tl::param<"W", float, 10, 784> (any
  // type with a static name: the store does not depend on expr/).
  template <class Symbol>
    requires requires { Symbol::name; typename Symbol::shape_type; }
  constexpr auto& get(const Symbol&) noexcept {
    return get<Symbol::name>();
  }
  template <class Symbol>
    requires requires { Symbol::name; typename Symbol::shape_type; }
  constexpr const auto& get(const Symbol&) const noexcept {
    return get<Symbol::name>();
  }
  template <class Symbol>
    requires requires { Symbol::name; typename Symbol::shape_type; }
  constexpr auto& grad(const Symbol&) noexcept {
    return grad<Symbol::name>();
  }
  template <class Symbol>
    requires requires { Symbol::name; typename Symbol::shape_type; }
  constexpr const auto& grad(const Symbol&) const noexcept {
    return grad<Symbol::name>();
  }

  // f(name, value, grad) for every parameter, in the store's order.
  template <class F>
  constexpr void visit(F&& f) {
    ++stamp_.writes;
    visit_each(f, *this, std::index_sequence_for<Entries...>{});
  }
  template <class F>
  constexpr void visit(F&& f) const {
    visit_each(f, *this, std::index_sequence_for<Entries...>{});
  }

  // f(name, value, grad) for every trainable parameter (no buffer).
  template <class F>
  constexpr void visit_trainable(F&& f) {
    ++stamp_.writes;
    visit_entries([&](auto entry, auto& value, auto& grad) {
      if constexpr (decltype(entry)::trainable) f(decltype(entry)::name.view(), value, grad);
    });
  }

  // f(entry_tag, value, grad) where entry_tag is a parameter_entry<...>{}:
  // the name, element type and shape as compile-time values.
  template <class F>
  constexpr void visit_entries(F&& f) {
    ++stamp_.writes;
    visit_entries_each(f, std::index_sequence_for<Entries...>{});
  }

  constexpr void zero_grad() noexcept {
    visit([](std::string_view, auto&, auto& grad) { grad.fill(0); });
  }

  // The contents' version: changes with every write the store can see.
  constexpr store_version version() const noexcept { return {stamp_.identity, stamp_.writes}; }

  // Announces a write through a reference or pointer kept from before a
  // packed program's last call (see the top of this file).
  constexpr void mark_changed() noexcept { ++stamp_.writes; }

  // Raw access by position, for code that walks several stores in step
  // (an optimizer's state has the same entries).
  template <std::size_t I>
  constexpr auto& value_at() noexcept {
    ++stamp_.writes;
    return std::get<I>(holder_.get().values);
  }
  template <std::size_t I>
  constexpr auto& grad_at() noexcept {
    return std::get<I>(holder_.get().grads);
  }
  template <std::size_t I>
  constexpr const auto& value_at() const noexcept {
    return std::get<I>(holder_.get().values);
  }
  template <std::size_t I>
  constexpr const auto& grad_at() const noexcept {
    return std::get<I>(holder_.get().grads);
  }

 private:
  template <fixed_string Name>
  static constexpr std::size_t checked_index() {
    constexpr std::size_t i = detail::name_index<Name, Entries::name...>;
    if constexpr (i < count)
      return i;
    else
      return detail::no_parameter_named<Name, entries>::ok;
  }

  template <class F, class Self, std::size_t... I>
  static constexpr void visit_each(F& f, Self& self, std::index_sequence<I...>) {
    (f(Entries::name.view(), std::get<I>(self.holder_.get().values),
       std::get<I>(self.holder_.get().grads)),
     ...);
  }
  template <class F, std::size_t... I>
  constexpr void visit_entries_each(F& f, std::index_sequence<I...>) {
    (f(Entries{}, std::get<I>(holder_.get().values), std::get<I>(holder_.get().grads)), ...);
  }

  detail::storage_holder<storage, data_type> holder_{};
  detail::store_stamp stamp_{};
};

}  // namespace tapeless
