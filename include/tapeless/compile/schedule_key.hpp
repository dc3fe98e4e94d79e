#pragma once
// A schedule's name in symbols: a 64-bit key, not its node list.
//
// Every kernel function is a template over its schedule, and g++ mangles each
// function's name in full, including every template argument: a schedule
// named by its node list spells out the whole graph in the name of each of
// its kernels' functions and helper lambdas, and g++'s mangler compares each
// part of a name with every earlier part (quadratic in the graph). For a
// transformer block's training program that was 40% of the compilation, and
// it grew with the square of the block count. keyed_schedule<Key> names the
// same schedule in a few bytes: Key hashes the node list, parameters,
// element type and instruction set, and the list is found again from the key
// through a friend function that only the registration of that list defines.
//
// g++ mangles the name of every instantiated entity of external linkage
// (for its comdat group), emitted or not: a constexpr function evaluated at
// compile time, a static member of a class template, std::is_same_v read in
// an if constexpr. An entity of internal linkage is named only if emitted,
// and any template instantiated over Key has internal linkage (below): so
// what runs per node or per schedule at compile time is either over the key
// or written so as to instantiate no such entity over a node's type
// (core/type_list.hpp, compile/kernels/family.hpp).
//
// Soundness. A key is lossy: two different lists may share one (a 64-bit
// collision, or types the compiler prints alike: two translation units'
// types of one name in unnamed namespaces, or unnamed classes). So the key
// is carried by schedule_key<Key>, a class in an unnamed namespace: every
// keyed_schedule<schedule_key<Key>>, and every kernel function instantiated
// over it, has internal linkage, and two translation units never share one
// (the linker cannot merge one unit's kernels into the other's, as it would
// with a weak symbol). Within one translation unit two lists with one key
// fail to compile: the friend is then defined twice. The price: a program
// compiled in several translation units has its kernels once per unit (as a
// static function would), and an inline function of external linkage that
// names a schedule (program::run) refers to a different entity in each unit,
// which the ODR forbids in letter; it is the same code in every unit, since
// such a function's own template arguments spell the whole graph, so
// whichever copy the linker keeps computes the same thing.

#include <cstdint>
#include <type_traits>

#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/scan.hpp>

namespace tapeless::detail {

constexpr std::uint64_t mixed_hash(std::uint64_t seed, std::uint64_t value) noexcept {
  std::uint64_t z = seed ^ (value + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A type without expressions inside (an operation, a leaf, an element type):
// hashed by its name as the compiler spells it.
template <class X>
constexpr std::uint64_t type_name_hash() noexcept {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (const char* p = __PRETTY_FUNCTION__; *p != '\0'; ++p)
    h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ull;
  return h;
}

// Hashes are the value of an integral_constant base, not a static member of
// their own: that would be a symbol per node type, whose name g++ mangles
// in full (core/type_list.hpp).
template <class N>
struct node_hash : std::integral_constant<std::uint64_t, type_name_hash<N>()> {};
// An operation is hashed by name unless it holds expressions (a scan's
// body): those are hashed node by node, since a name spells a graph as a
// tree (exponential in its shared subexpressions).
template <class Op>
struct operation_hash {
  static constexpr std::uint64_t value = type_name_hash<Op>();
};
template <std::uint64_t... Hashes>
constexpr std::uint64_t combined_hash(std::uint64_t h) noexcept {
  ((h = mixed_hash(h, Hashes)), ...);
  return mixed_hash(h, sizeof...(Hashes));
}
template <class Op, class... Operands>
struct node_hash<node<Op, Operands...>>
    : std::integral_constant<std::uint64_t,
                             combined_hash<node_hash<Operands>::value...>(operation_hash<Op>::value)> {};
template <class Body, class Carry, class Step, bool InitialCarry, bool KeepsState>
struct operation_hash<scan_op<Body, Carry, Step, InitialCarry, KeepsState>> {
  static constexpr std::uint64_t value =
      mixed_hash(mixed_hash(mixed_hash(mixed_hash(type_name_hash<scan_op<void, void, void, InitialCarry, KeepsState>>(),
                                                  node_hash<Body>::value),
                                       node_hash<Carry>::value),
                            node_hash<Step>::value),
                 1);
};
template <class Forward>
struct operation_hash<scan_gradient_op<Forward>> {
  static constexpr std::uint64_t value = mixed_hash(type_name_hash<scan_gradient_op<void>>(), node_hash<Forward>::value);
};

template <class List>
struct list_hash;
template <std::uint64_t... Hashes>
constexpr std::uint64_t list_of_hashes() noexcept {
  std::uint64_t h = sizeof...(Hashes);
  ((h = mixed_hash(h, Hashes)), ...);
  return h;
}
template <class... Ts>
struct list_hash<type_list<Ts...>> : std::integral_constant<std::uint64_t, list_of_hashes<node_hash<Ts>::value...>()> {
};

namespace {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
// The key of a schedule, as a type of this translation unit only.
template <std::uint64_t Key>
struct schedule_key {
  // Declared for every key; defined by the registration of the schedule
  // with that key (the function is not a template: one per key).
  friend constexpr auto scheduled_lists(schedule_key);
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Tests set the mask to make keys collide (tests/static/fail/two_schedules_one_key.cpp).
#ifndef TAPELESS_SCHEDULE_KEY_MASK
#define TAPELESS_SCHEDULE_KEY_MASK 0xffffffffffffffffull
#endif

template <class Order, class Params, class T, class Arch>
struct schedule_registration {
  static constexpr std::uint64_t key =
      mixed_hash(mixed_hash(mixed_hash(list_hash<Order>::value, list_hash<Params>::value), type_name_hash<T>()),
                 type_name_hash<Arch>()) &
      std::uint64_t{TAPELESS_SCHEDULE_KEY_MASK};
  // A redefinition of this function is a key collision within this
  // translation unit: two programs whose graphs differ only in types the
  // compiler prints alike (two unnamed classes, which g++ prints as
  // `<unnamed struct>`, say). Name those types.
  friend constexpr auto scheduled_lists(schedule_key<key>) { return type_list<Order, Params, T, Arch>{}; }
};

// The same for the context a program's kernels read (compile/context.hpp):
// every kernel function is a template over its type too, which spells the
// parameter store (every parameter's name, a template argument per
// character), the update and the bindings.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-template-friend"
#endif
template <std::uint64_t Key>
struct context_key {
  friend constexpr auto keyed_type(context_key);
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

template <class Context>
struct context_registration {
  static constexpr std::uint64_t key = type_name_hash<Context>();
  // A redefinition here: two contexts the compiler prints alike in this
  // translation unit (see the schedule's registration above).
  friend constexpr auto keyed_type(context_key<key>) { return std::type_identity<Context>{}; }
};

}  // namespace

// Context, named in symbols by its key: the context itself as its base (an
// aggregate: keyed_context<Key>{context}).
template <class Key>
struct keyed_context : decltype(keyed_type(Key{}))::type {};
template <class Context>
using short_named_context = keyed_context<context_key<context_registration<Context>::key>>;

// The schedule (compile/schedule.hpp) of nodes Order (in topological order),
// differentiating with respect to Params, computing in T on Arch.
template <class Key>
struct keyed_schedule;
template <class Order, class Params, class T, class Arch>
using schedule = keyed_schedule<schedule_key<schedule_registration<Order, Params, T, Arch>::key>>;

// The lists a key was registered with.
template <class Key>
using scheduled_lists_of = decltype(scheduled_lists(Key{}));

}  // namespace tapeless::detail
