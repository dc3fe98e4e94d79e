#pragma once
// A seeded split of a data set's rows into training and validation indices,
// or into training, validation and test indices.
//
//   auto split = tl::train::validation_split(data.size(), 0.1, /*seed*/ 7);
//   split.train, split.validation        // disjoint, ascending, covering 0..n-1
//   auto three = tl::train::three_way_split(data.size(), {.validation = 0.1, .test = 0.2}, 7);
//   three.train, three.validation, three.test
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

struct three_way_fractions {
  double validation = 0;
  double test = 0;
};

struct three_way_index_split {
  std::vector<std::size_t> train;
  std::vector<std::size_t> validation;
  std::vector<std::size_t> test;
};

// round(n * validation) rows go to validation and round(n * test) to test, all
// from one seeded shuffle of the rows; the rest to training. Each list is
// sorted. The validation rows are those validation_split(n, validation, seed)
// picks, so adding a test set to a run keeps its validation set.
inline three_way_index_split three_way_split(std::size_t n, three_way_fractions fractions, std::uint64_t seed) {
  const auto fraction_text = [&] {
    return "validation " + std::to_string(fractions.validation) + ", test " + std::to_string(fractions.test);
  };
  if (!(fractions.validation >= 0.0 && fractions.validation <= 1.0 && fractions.test >= 0.0 &&
        fractions.test <= 1.0))
    throw std::invalid_argument("tl::train::three_way_split: fractions " + fraction_text() +
                                ": each must be in [0, 1]");
  const auto rows = [&](double fraction) {
    return static_cast<std::size_t>(std::llround(static_cast<double>(n) * fraction));
  };
  const std::size_t validation_count = rows(fractions.validation), test_count = rows(fractions.test);
  if (validation_count + test_count > n)
    throw std::invalid_argument("tl::train::three_way_split: fractions " + fraction_text() + " of " +
                                std::to_string(n) + " rows ask for " +
                                std::to_string(validation_count + test_count) + " rows: their sum must be at most 1");
  std::vector<std::size_t> order = all_indices(n);
  random_stream rng{seed};
  shuffle(std::span(order), rng);
  const auto part = [&](std::size_t begin, std::size_t end) {
    std::vector<std::size_t> indices(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                     order.begin() + static_cast<std::ptrdiff_t>(end));
    std::sort(indices.begin(), indices.end());
    return indices;
  };
  three_way_index_split split;
  split.validation = part(0, validation_count);
  split.test = part(validation_count, validation_count + test_count);
  split.train = part(validation_count + test_count, n);
  return split;
}

}  // namespace tapeless::train
