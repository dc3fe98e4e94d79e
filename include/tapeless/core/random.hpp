#pragma once
// A seeded random stream that gives the same numbers on every compiler and
// standard library (std::normal_distribution does not), so a seed reproduces
// a run bit for bit: initial weights, dropout masks, shuffles.
//
//   tl::random_stream rng{42};
//   float u = rng.uniform();          // [0, 1)
//   float n = rng.normal();           // mean 0, standard deviation 1
//   std::size_t k = rng.below(10);    // 0 .. 9, unbiased
//
// The generator is xoshiro256** seeded through splitmix64 (Blackman & Vigna).

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>

namespace tapeless {

class random_stream {
  __extension__ using wide_product = unsigned __int128;

 public:
  constexpr explicit random_stream(std::uint64_t seed) noexcept {
    for (auto& word : state_) word = splitmix64(seed);
  }

  // 64 uniformly distributed bits.
  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1), with the 24 (float) or 53 (double) bits the type holds.
  template <class T = float>
  constexpr T uniform() noexcept {
    if constexpr (sizeof(T) <= 4)
      return static_cast<T>(next() >> 40) * static_cast<T>(0x1p-24);
    else
      return static_cast<T>(next() >> 11) * static_cast<T>(0x1p-53);
  }

  // Uniform in [low, high).
  template <class T = float>
  constexpr T uniform(T low, T high) noexcept {
    return low + (high - low) * uniform<T>();
  }

  // Standard normal by Box-Muller in double; the second value of each pair is
  // kept for the next call.
  template <class T = float>
  T normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return static_cast<T>(spare_);
    }
    const double u1 = 1.0 - uniform<double>();  // (0, 1]: log is finite
    const double u2 = uniform<double>();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return static_cast<T>(radius * std::cos(2.0 * std::numbers::pi * u2));
  }

  template <class T = float>
  T normal(T mean, T standard_deviation) noexcept {
    return mean + standard_deviation * normal<T>();
  }

  // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
  constexpr std::uint64_t below(std::uint64_t n) noexcept {
    wide_product product = static_cast<wide_product>(next()) * n;
    auto low = static_cast<std::uint64_t>(product);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        product = static_cast<wide_product>(next()) * n;
        low = static_cast<std::uint64_t>(product);
      }
    }
    return static_cast<std::uint64_t>(product >> 64);
  }

 private:
  static constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t state_[4]{};
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace tapeless
