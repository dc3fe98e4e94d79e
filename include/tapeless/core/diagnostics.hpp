#pragma once
// Helpers for readable compile-time errors. A failing check names the
// offending symbols and shapes through the template arguments of the
// class that holds the static_assert, which every compiler prints.

namespace tapeless::detail {

template <class...>
inline constexpr bool always_false = false;

template <auto...>
inline constexpr bool always_false_value = false;

}  // namespace tapeless::detail
