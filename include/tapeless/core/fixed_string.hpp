#pragma once
// A string usable as a template argument, so that symbol names are part of types.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace tapeless {

template <std::size_t N>
struct fixed_string {
  char chars[N]{};  // includes the terminating '\0'

  constexpr fixed_string(const char (&text)[N]) noexcept { std::copy_n(text, N, chars); }

  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  constexpr std::size_t size() const noexcept { return N - 1; }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

}  // namespace tapeless
