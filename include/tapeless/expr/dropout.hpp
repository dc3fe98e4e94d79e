#pragma once
// Dropout as an operation: while a compiled program trains (program.step),
// each element is zeroed with probability P and the others scaled by
// 1 / (1 - P); in every other evaluation (program(...), the scalar evaluator)
// it is the identity. The builder is tl::nn::dropout (nn/dropout.hpp).
//
// The mask is not stored: element i of step s keeps its value when a hash of
// (the program's seed, s, the layer's salt, i) is at least P, so the backward
// pass recomputes the very mask the forward pass drew, in the same fused loop
// position, and a seed reproduces a run bit for bit.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <tapeless/core/structural_double.hpp>
#include <tapeless/expr/node.hpp>

namespace tapeless {

template <std::uint64_t Salt, structural_double P>
struct dropout_op : elementwise_operation {
  static_assert(P >= 0.0 && P < 1.0, "tapeless::nn::dropout: the probability must be in [0, 1)");
  static constexpr std::string_view name = "dropout";
  static constexpr std::uint64_t salt = Salt;
  static constexpr double probability = P;
  static constexpr auto apply(auto a) { return a; }  // evaluation mode

  // Does element `index` survive in step `step` of a program seeded `seed`?
  static constexpr bool keeps(std::uint64_t seed, std::uint64_t step, std::uint64_t index) noexcept {
    std::uint64_t z = seed + Salt * 0x9e3779b97f4a7c15ULL + step * 0xd1b54a32d192ed03ULL +
                      index * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    constexpr auto threshold = static_cast<std::uint64_t>(P * 16777216.0);  // P in 24 bits
    return (z >> 40) >= threshold;
  }
};

}  // namespace tapeless
