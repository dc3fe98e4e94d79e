#pragma once
// Seeded shuffling. Every random choice goes through tl::random_stream, so a
// seed gives the same order on every compiler and standard library
// (std::shuffle's order is unspecified).
//
//   tl::train::shuffle(std::span(order), rng);        // Fisher-Yates, in place
//   auto rng = tl::train::epoch_stream(seed, epoch);  // the stream of one epoch

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include <tapeless/core/random.hpp>

namespace tapeless::train {

// Fisher-Yates (Durstenfeld): every permutation equally likely, given an
// unbiased below(); allocation-free.
template <class T>
constexpr void shuffle(std::span<T> values, random_stream& rng) noexcept {
  for (std::size_t i = values.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    using std::swap;
    swap(values[i - 1], values[j]);
  }
}

// The random stream of epoch `epoch` of a run seeded with `seed`. It depends
// on (seed, epoch) alone, so epoch 7's order is the same whether or not epochs
// 0-6 ran in this process: a resumed run sees the batches an unbroken one saw.
constexpr random_stream epoch_stream(std::uint64_t seed, std::uint64_t epoch) noexcept {
  // splitmix64's finalizer spreads the seed, so (s, e) and (s + 1, e - 1)
  // give unrelated streams.
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return random_stream{z ^ epoch};
}

}  // namespace tapeless::train
