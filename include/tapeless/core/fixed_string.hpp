#pragma once
// A string usable as a template argument, so that symbol names are part of types.

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace tapeless {

template <std::size_t N>
struct fixed_string {
  char chars[N]{};  // includes the terminating '\0'

  constexpr fixed_string() noexcept = default;
  constexpr fixed_string(const char (&text)[N]) noexcept { std::copy_n(text, N, chars); }

  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  constexpr std::size_t size() const noexcept { return N - 1; }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& other) const noexcept {
    return view() == other.view();
  }
};

// "fc1" + ".weight": names built from names, at compile time.
template <std::size_t N, std::size_t M>
constexpr fixed_string<N + M - 1> operator+(const fixed_string<N>& a, const fixed_string<M>& b) noexcept {
  fixed_string<N + M - 1> joined;
  std::copy_n(a.chars, N - 1, joined.chars);
  std::copy_n(b.chars, M, joined.chars + N - 1);
  return joined;
}

}  // namespace tapeless
