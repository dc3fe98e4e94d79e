#pragma once
// tl::parameters_of(e...): a parameter store (core/parameter_store.hpp) for
// every param and buffer the expressions read, in the order the graph meets them.

#include <type_traits>

#include <tapeless/core/parameter_store.hpp>
#include <tapeless/expr/graph.hpp>
#include <tapeless/expr/label.hpp>
#include <tapeless/expr/parameter_symbols.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless {

namespace detail {

template <class Symbol>
using entry_of = parameter_entry<Symbol::name, typename Symbol::element_type, typename Symbol::shape_type,
                                 Symbol::kind == symbol_kind::parameter>;

template <class Storage, class Symbols>
struct store_for_symbols;
template <class Storage, class... Symbols>
struct store_for_symbols<Storage, type_list<Symbols...>> {
  using type = parameter_store<Storage, entry_of<Symbols>...>;
};

}  // namespace detail

// The store type for the params and buffers Exprs read, in the order the graph meets them.
template <class Storage, class... Exprs>
using parameters_of_t = typename detail::store_for_symbols<
    Storage, typename detail::collect_parameters<
                 detail::type_list<>,
                 detail::topological_order<typename detail::labelling<0, std::remove_cvref_t<Exprs>>::type...>,
                 true>::type>::type;

// A store for every param and buffer the expressions read: params zero,
// buffers at their initial values (core/parameter_store.hpp).
template <class Storage = automatic_storage, expression... Exprs>
auto parameters_of(const Exprs&...) {
  return parameters_of_t<Storage, Exprs...>{};
}

}  // namespace tapeless
