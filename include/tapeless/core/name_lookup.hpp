#pragma once
// Finding a name among names: which binding binds a symbol, which store
// entry holds a parameter. One fold over the names, no recursion; a name
// not found gives the count of names.

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>

namespace tapeless::detail {

// How many of Names equal Name.
template <fixed_string Name, fixed_string... Names>
inline constexpr std::size_t name_count = (std::size_t{0} + ... + std::size_t{Name == Names});

// Position of the first of Names equal to Name, or sizeof...(Names) if none is.
template <fixed_string Name, fixed_string... Names>
inline constexpr std::size_t name_index = [] {
  constexpr bool hits[] = {(Name == Names)..., false};
  std::size_t i = 0;
  while (i < sizeof...(Names) && !hits[i]) ++i;
  return i;
}();

}  // namespace tapeless::detail
