#pragma once
// tl::nn::dropout<"name", P>(h): zeroes each element of h with probability P
// while a program trains (program.step) and scales the others by 1/(1 - P);
// the identity when a program only evaluates (program(...)), as PyTorch's
// train() and eval() modes. The name makes the layer's mask its own: two
// dropout layers never draw the same mask. program.seed(s) sets the stream.
//
//   constexpr auto h = tl::nn::dropout<"drop1", 0.2>(tl::relu(tl::nn::linear<"fc1", 256>(X)));

#include <cstdint>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/dropout.hpp>

namespace tapeless::nn {

namespace detail {
// FNV-1a of the name: the layer's salt.
template <std::size_t N>
constexpr std::uint64_t salt_of(const fixed_string<N>& name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i + 1 < N; ++i) h = (h ^ static_cast<unsigned char>(name.chars[i])) * 0x100000001b3ULL;
  return h;
}
}  // namespace detail

template <fixed_string Name, structural_double P, expression H>
constexpr auto dropout(const H& h) {
  return node<dropout_op<detail::salt_of(Name), P>, H>{h};
}

}  // namespace tapeless::nn
