#pragma once
// A seeded split of a data set's rows into training and validation indices.
//
//   auto split = tl::train::validation_split(data.size(), 0.1, /*seed*/ 7);
//   split.train, split.validation        // disjoint, ascending, covering 0..n-1
//
// Indices, not copies: the loaders read the rows where they are, so a split of
// Fashion-MNIST (188 MB of floats) costs 480 KB. dataset::subset copies when
// a separate data set is wanted.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <tapeless/core/random.hpp>
#include <tapeless/train/shuffle.hpp>

namespace tapeless::train {

struct index_split {
  std::vector<std::size_t> train;
  std::vector<std::size_t> validation;
};

// 0, 1, ..., n - 1.
inline std::vector<std::size_t> all_indices(std::size_t n) {
  std::vector<std::size_t> indices(n);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  return indices;
}

// round(n * fraction) rows, chosen uniformly at random from the seed, go to
// validation; the rest to training. Both lists are sorted, so evaluation reads
// memory in order and the split is independent of later shuffles.
inline index_split validation_split(std::size_t n, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument("tl::train::validation_split: fraction " + std::to_string(fraction) +
                                " is outside [0, 1]");
  const auto count = static_cast<std::size_t>(std::llround(static_cast<double>(n) * fraction));
  std::vector<std::size_t> order = all_indices(n);
  random_stream rng{seed};
  shuffle(std::span(order), rng);
  index_split split;
  split.validation.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count));
  split.train.assign(order.begin() + static_cast<std::ptrdiff_t>(count), order.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

}  // namespace tapeless::train
