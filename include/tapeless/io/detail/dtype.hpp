#pragma once
// safetensors dtype names: the one each C++ element type is saved as, and the
// element size of every byte-sized dtype a file may hold.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <type_traits>

namespace tapeless::io::detail {

// The dtype T is stored as: F32/F64 for IEEE floats, I<bits>/U<bits> for
// integers, and "" for a type with none (bool, long double, ...), which the
// entry points turn into one static_assert.
template <class T>
constexpr std::string_view dtype_name() {
  if constexpr (std::is_same_v<T, float> && std::numeric_limits<float>::is_iec559 && sizeof(T) == 4)
    return "F32";
  else if constexpr (std::is_same_v<T, double> && std::numeric_limits<double>::is_iec559 &&
                     sizeof(T) == 8)
    return "F64";
  else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // Integers by width and sign, so long and long long both map to I64.
    constexpr bool s = std::is_signed_v<T>;
    if constexpr (sizeof(T) == 1)
      return s ? "I8" : "U8";
    else if constexpr (sizeof(T) == 2)
      return s ? "I16" : "U16";
    else if constexpr (sizeof(T) == 4)
      return s ? "I32" : "U32";
    else if constexpr (sizeof(T) == 8)
      return s ? "I64" : "U64";
    else
      return "";
  } else
    return "";
}

template <class T>
inline constexpr bool has_dtype = !dtype_name<T>().empty();

// Bytes per element of a dtype; 0 for a name this reader does not know and
// for the sub-byte dtypes (F4, F6_*), whose tensors cannot be sized in bytes
// per element.
constexpr std::size_t dtype_size(std::string_view dtype) noexcept {
  struct known {
    std::string_view name;
    std::size_t size;
  };
  constexpr known table[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"C64", 8}, {"F64", 8}, {"I64", 8},     {"U64", 8},
  };
  for (const known& k : table)
    if (k.name == dtype) return k.size;
  return 0;
}

}  // namespace tapeless::io::detail
