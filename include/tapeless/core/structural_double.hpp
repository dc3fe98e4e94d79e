#pragma once
// A double that can be a template argument on every compiler we support:
// dropout's probability, batch norm's momentum, a norm's eps.
//
//   template <structural_double P> struct op;   // op<0.25>
//   struct options { structural_double eps = 1e-5; };
//
// clang workaround: clang 14 takes no floating-point template argument, nor a
// class holding a double member (both C++20, implemented in clang 18). The
// value is kept as its bit pattern instead: exact, so equal values give the
// same type, and read back as a double wherever one is expected.

#include <bit>
#include <cstdint>

namespace tapeless {

struct structural_double {
  std::uint64_t bits = 0;  // std::bit_cast of the value: public, as a structural type needs

  constexpr structural_double() noexcept = default;
  constexpr structural_double(double value) noexcept : bits(std::bit_cast<std::uint64_t>(value)) {}
  constexpr operator double() const noexcept { return std::bit_cast<double>(bits); }
};

}  // namespace tapeless
