#pragma once
// Recognising a parameter store, for the checks at the optim layer's entry
// points.

#include <tapeless/core/parameter_store.hpp>

#include <type_traits>

namespace tapeless::optim::detail {

template <class T>
inline constexpr bool is_parameter_store = false;
template <class Storage, class... Entries>
inline constexpr bool is_parameter_store<parameter_store<Storage, Entries...>> = true;

// Optimizers and clipping do arithmetic on every element: integer
// parameters have no gradient to follow.
template <class Store>
inline constexpr bool floating_entries = false;
template <class Storage, class... Entries>
inline constexpr bool floating_entries<parameter_store<Storage, Entries...>> =
    (std::is_floating_point_v<typename Entries::element_type> && ...);

}  // namespace tapeless::optim::detail
