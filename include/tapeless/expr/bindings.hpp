#pragma once
// The one check of named bindings, shared by scalar evaluation
// (f(x = 0.5, y = 2)) and compiled programs (program.step(params, X = ...)):
// every argument is a binding, no name is bound twice, every symbol read has
// a binding, no two different symbols share a name. Each failure is one
// static_assert in a class whose template arguments carry the name, so the
// compiler's first line shows it (no_binding_for_symbol<"y">). The caller
// chooses the words through a Diagnostics class; bindings of names that
// nothing reads are allowed.

#include <cstddef>
#include <tuple>
#include <type_traits>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/name_lookup.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/symbol.hpp>

namespace tapeless::detail {

// Position of the binding of the symbol called Name among Bindings (their
// count if there is none).
template <fixed_string Name, class... Bindings>
inline constexpr std::size_t binding_index = name_index<Name, Bindings::name...>;

// The binding of the symbol called Name.
template <fixed_string Name, class... Bindings>
constexpr const auto& find_binding(const Bindings&... bindings) {
  return std::get<binding_index<Name, Bindings...>>(std::tie(bindings...));
}

template <fixed_string Name>
struct two_symbols_share_a_name {
  static_assert(always_false_value<Name>,
                "tapeless: two different symbols (kind, element type or shape differ) share "
                "one name; give each its own name (see two_symbols_share_a_name<...> above)");
  static constexpr bool ok = false;
};

// Diagnostics: missing<Name>::ok, twice<Name>::ok, not_binding<B>::ok, each
// false after its static_assert.
template <class Diagnostics, class B, class... Bindings>
constexpr bool check_one_binding() {
  if constexpr (!is_binding<B>)
    return Diagnostics::template not_binding<B>::ok;
  else if constexpr (name_count<B::name, Bindings::name...> != 1)
    return Diagnostics::template twice<B::name>::ok;
  else
    return true;
}

template <class Diagnostics, class Symbol, class Symbols, class... Bindings>
struct symbol_check;
template <class Diagnostics, class Symbol, class... Symbols, class... Bindings>
struct symbol_check<Diagnostics, Symbol, gathered<Symbols...>, Bindings...> {
  static constexpr bool ok = [] {
    constexpr bool clash = ((Symbols::name == Symbol::name && !std::is_same_v<Symbols, Symbol>) || ...);
    if constexpr (clash)
      return two_symbols_share_a_name<Symbol::name>::ok;
    else if constexpr (name_count<Symbol::name, Bindings::name...> == 0)
      return Diagnostics::template missing<Symbol::name>::ok;
    else
      return true;
  }();
};

// The symbols among Nodes that must be bound (Filter<symbol>::value).
template <template <class> class Filter, class Node>
struct gathered_if_bound {
  using type = gathered<>;
};
template <template <class> class Filter, fixed_string Name, class Element, class Shape, symbol_kind Kind>
struct gathered_if_bound<Filter, symbol<Name, Element, Shape, Kind>> {
  using type = std::conditional_t<Filter<symbol<Name, Element, Shape, Kind>>::value,
                                  gathered<symbol<Name, Element, Shape, Kind>>, gathered<>>;
};

template <class Diagnostics, class Symbols, class... Bindings>
struct symbols_check;
template <class Diagnostics, class... Symbols, class... Bindings>
struct symbols_check<Diagnostics, gathered<Symbols...>, Bindings...> {
  static constexpr bool ok = (symbol_check<Diagnostics, Symbols, gathered<Symbols...>, Bindings...>::ok && ...);
};

template <class S>
struct every_symbol : std::true_type {};

// True when Bindings bind the symbols of Order (a type_list of nodes) that
// Filter selects; else false after one static_assert naming the problem.
template <class Diagnostics, class Order, template <class> class Filter = every_symbol>
struct binding_check;
template <class Diagnostics, class... Nodes, template <class> class Filter>
struct binding_check<Diagnostics, type_list<Nodes...>, Filter> {
  template <class... Bindings>
  static constexpr bool ok() {
    if constexpr (!(check_one_binding<Diagnostics, Bindings, Bindings...>() && ...))
      return false;
    else
      return symbols_check<Diagnostics,
                           decltype((gathered<>{} | ... | typename gathered_if_bound<Filter, Nodes>::type{})),
                           Bindings...>::ok;
  }
};

// The words of the check, as scalar evaluation and compiled programs say them.
// The failures below carry the symbol's name as a template argument, so the
// compiler's "required from" line shows it: no_binding_for_symbol<"x">.
template <fixed_string Name>
struct no_binding_for_symbol {
  static_assert(always_false_value<Name>,
                "tapeless: the expression uses a symbol that has no binding; pass it as "
                "name = value (the symbol is named in no_binding_for_symbol<...> above)");
  static constexpr bool ok = false;
};

template <fixed_string Name>
struct symbol_bound_twice {
  static_assert(always_false_value<Name>,
                "tapeless: the same symbol is bound twice; bind each symbol once (the symbol "
                "is named in symbol_bound_twice<...> above)");
  static constexpr bool ok = false;
};

template <class B>
struct not_a_binding {
  static_assert(always_false<B>,
                "tapeless: an expression is called with bindings written name = value, "
                "e.g. f(x = 0.5, y = 2.0); this argument is not one");
  static constexpr bool ok = false;
};

// When an expression is called.
struct evaluation_diagnostics {
  template <fixed_string Name>
  using missing = no_binding_for_symbol<Name>;
  template <fixed_string Name>
  using twice = symbol_bound_twice<Name>;
  template <class B>
  using not_binding = not_a_binding<B>;
};

// When a compiled program is called; it also checks that each value fits
// its input (compile/bindings.hpp).
template <fixed_string Name>
struct no_binding_for_input {
  static_assert(always_false_value<Name>,
                "tapeless: the program reads an input that is not bound; pass it as Name = value "
                "(the input is named in no_binding_for_input<...> above)");
  static constexpr bool ok = false;
};
template <fixed_string Name>
struct input_bound_twice {
  static_assert(always_false_value<Name>,
                "tapeless: an input is bound more than once (named in input_bound_twice<...> above)");
  static constexpr bool ok = false;
};
template <class B>
struct not_a_binding_of_this_program {
  static_assert(always_false<B>, "tapeless: arguments after the parameters must be bindings, Name = value");
  static constexpr bool ok = false;
};
template <class Symbol, class Value>
struct binding_does_not_fit_input {
  static_assert(always_false<Symbol, Value>,
                "tapeless: the value bound to an input must be a tl::tensor or std::span of the "
                "input's element type and size (a scalar for a rank-0 input); see the input "
                "and the value's type above");
  static constexpr bool ok = false;
};

struct program_diagnostics {
  template <fixed_string Name>
  using missing = no_binding_for_input<Name>;
  template <fixed_string Name>
  using twice = input_bound_twice<Name>;
  template <class B>
  using not_binding = not_a_binding_of_this_program<B>;
};

}  // namespace tapeless::detail
