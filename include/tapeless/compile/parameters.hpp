#pragma once
// The parameter store: every trainable parameter of a model, by name, with a
// statically shaped value and gradient each.
//
//   auto params = tl::parameters_of(loss);        // the params `loss` reads
//   params.get<"fc1.weight">()                    // tl::tensor<float, 256, 784>&
//   params.grad<"fc1.weight">()                   // its gradient after a step
//   params.get(W), params.grad(W)                 // the same, by symbol
//   params.visit([](std::string_view name, auto& value, auto& grad) { ... });
//
// Storage is the user's choice. parameters_of<tl::inline_storage>(e) keeps the
// tensors inside the object (no heap at all: small models on a real-time
// thread); parameters_of<tl::heap_storage>(e) allocates them once, in the
// constructor. The default picks inline storage up to 64 KiB.
//
// Stores copy by value (a deep copy), which is what "keep the best weights"
// needs; copying allocates only for heap storage, and never while stepping.

#include <cstddef>
#include <memory>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/tensor.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/parameter_symbols.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

// Storage policies of a parameter store (and of a compiled program's buffers).
struct inline_storage {};
struct heap_storage {};
struct automatic_storage {
  static constexpr std::size_t inline_limit_bytes = 64 * 1024;
};

// One parameter: a name, an element type and a shape.
template <fixed_string Name, class T, class Shape>
struct parameter_entry {
  static constexpr fixed_string name = Name;
  using element_type = T;
  using shape_type = Shape;
  using tensor_type = tensor_for<T, Shape>;
};

namespace detail {

template <fixed_string Name, class Entries>
struct no_parameter_named {
  static_assert(always_false<Entries>,
                "tapeless: this parameter store has no parameter of that name; the name and "
                "the store's entries are in the template arguments above");
  static constexpr bool ok = false;
};

template <fixed_string Name, class... Entries>
constexpr std::size_t parameter_index() {
  constexpr bool hits[] = {(Entries::name == Name)..., false};
  std::size_t i = 0;
  while (i < sizeof...(Entries) && !hits[i]) ++i;
  return i;
}

// All of a store's tensors in one object, so heap storage is one allocation.
template <class... Entries>
struct parameter_tensors {
  std::tuple<typename Entries::tensor_type...> values{};
  std::tuple<typename Entries::tensor_type...> grads{};
};

template <class Storage, class Data>
struct parameter_holder;

template <class Data>
struct parameter_holder<inline_storage, Data> {
  Data data{};
  Data& get() noexcept { return data; }
  const Data& get() const noexcept { return data; }
};

template <class Data>
struct parameter_holder<heap_storage, Data> {
  std::unique_ptr<Data> data = std::make_unique<Data>();  // zero-filled

  parameter_holder() = default;
  parameter_holder(const parameter_holder& other) : data(std::make_unique<Data>(*other.data)) {}
  parameter_holder(parameter_holder&&) noexcept = default;
  parameter_holder& operator=(const parameter_holder& other) {
    *data = *other.data;  // same type, same size: copy in place, keep the allocation
    return *this;
  }
  parameter_holder& operator=(parameter_holder&&) noexcept = default;

  Data& get() noexcept { return *data; }
  const Data& get() const noexcept { return *data; }
};

template <class Storage, class Data>
struct storage_choice {
  using type = Storage;
};
template <class Data>
struct storage_choice<automatic_storage, Data> {
  using type = std::conditional_t<(sizeof(Data) <= automatic_storage::inline_limit_bytes),
                                  inline_storage, heap_storage>;
};

}  // namespace detail

template <class Storage, class... Entries>
class parameter_store {
  using data_type = detail::parameter_tensors<Entries...>;

 public:
  using storage = typename detail::storage_choice<Storage, data_type>::type;
  using entries = detail::type_list<Entries...>;

  // Number of parameter tensors, and of scalars in all of them.
  static constexpr std::size_t count = sizeof...(Entries);
  static constexpr std::size_t scalar_count = (std::size_t{0} + ... + Entries::shape_type::size);
  // Bytes of values and gradients together.
  static constexpr std::size_t bytes = sizeof(data_type);

  static constexpr std::array<std::string_view, count> names{Entries::name.view()...};

  // Is there a parameter called Name?
  template <fixed_string Name>
  static constexpr bool has = detail::parameter_index<Name, Entries...>() < count;

  template <fixed_string Name>
  constexpr auto& get() noexcept {
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

  // By symbol: params.get(W) for W = tl::param<"W", float, 10, 784>.
  template <fixed_string Name, class T, class Shape>
  constexpr auto& get(const symbol<Name, T, Shape, symbol_kind::parameter>&) noexcept {
    return get<Name>();
  }
  template <fixed_string Name, class T, class Shape>
  constexpr const auto& get(const symbol<Name, T, Shape, symbol_kind::parameter>&) const noexcept {
    return get<Name>();
  }
  template <fixed_string Name, class T, class Shape>
  constexpr auto& grad(const symbol<Name, T, Shape, symbol_kind::parameter>&) noexcept {
    return grad<Name>();
  }
  template <fixed_string Name, class T, class Shape>
  constexpr const auto& grad(const symbol<Name, T, Shape, symbol_kind::parameter>&) const noexcept {
    return grad<Name>();
  }

  // f(name, value, grad) for every parameter, in the store's order.
  template <class F>
  constexpr void visit(F&& f) {
    visit_each(f, *this, std::index_sequence_for<Entries...>{});
  }
  template <class F>
  constexpr void visit(F&& f) const {
    visit_each(f, *this, std::index_sequence_for<Entries...>{});
  }

  // f(entry_tag, value, grad) where entry_tag is a parameter_entry<...>{}:
  // the name, element type and shape as compile-time values.
  template <class F>
  constexpr void visit_entries(F&& f) {
    visit_entries_each(f, std::index_sequence_for<Entries...>{});
  }

  constexpr void zero_grad() noexcept {
    visit([](std::string_view, auto&, auto& grad) { grad.fill(0); });
  }

  // Raw access by position, for code that walks several stores in step
  // (an optimizer's state has the same entries).
  template <std::size_t I>
  constexpr auto& value_at() noexcept {
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
    constexpr std::size_t i = detail::parameter_index<Name, Entries...>();
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

  detail::parameter_holder<storage, data_type> holder_{};
};

namespace detail {

template <class Symbol>
using entry_of = parameter_entry<Symbol::name, typename Symbol::element_type, typename Symbol::shape_type>;

template <class Storage, class Symbols>
struct store_for_symbols;
template <class Storage, class... Symbols>
struct store_for_symbols<Storage, type_list<Symbols...>> {
  using type = parameter_store<Storage, entry_of<Symbols>...>;
};

}  // namespace detail

// The store type for the parameters Exprs read, in the order the graph meets them.
template <class Storage, class... Exprs>
using parameters_of_t = typename detail::store_for_symbols<
    Storage, typename detail::collect_parameters<
                 detail::type_list<>, detail::topological_order<typename detail::labelling<
                                          0, std::remove_cvref_t<Exprs>>::type...>>::type>::type;

// A zero-filled store for every param the expressions read.
template <class Storage = automatic_storage, expression... Exprs>
auto parameters_of(const Exprs&...) {
  return parameters_of_t<Storage, Exprs...>{};
}

}  // namespace tapeless
