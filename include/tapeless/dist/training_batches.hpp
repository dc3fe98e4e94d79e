#pragma once
// This rank's shard of every training batch, for tl::dist::data_parallel.
//
//   auto train = tl::dist::training_batches<64>(world, data, split.train, /*seed*/ 42);
//   // on each of N ranks: batches of 64 rows, together the batches of 64 * N
//   // that tl::train::training_batches<64 * N>(data, split.train, 42) gives one process
//
// Every rank shuffles the same order from the seed, so no data moves between
// ranks; each reads the whole data set (or the rows given) in place.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <tapeless/dist/communicator.hpp>
#include <tapeless/train/batch_loader.hpp>

namespace tapeless::dist {

template <std::size_t B, std::size_t F, class Target>
train::batch_loader<B, F, Target> training_batches(const communicator& comm, const train::dataset<F, Target>& data,
                                                   std::vector<std::size_t> indices, std::uint64_t seed,
                                                   train::last_batch last = train::last_batch::wrap) {
  return train::batch_loader<B, F, Target>(
      data, std::move(indices),
      {.last = last,
       .shuffle = true,
       .seed = seed,
       .shard = {.index = static_cast<std::size_t>(comm.rank()), .count = static_cast<std::size_t>(comm.size())}});
}
template <std::size_t B, std::size_t F, class Target>
train::batch_loader<B, F, Target> training_batches(const communicator& comm, const train::dataset<F, Target>& data,
                                                   std::uint64_t seed,
                                                   train::last_batch last = train::last_batch::wrap) {
  return training_batches<B>(comm, data, train::all_indices(data.size()), seed, last);
}

template <std::size_t B, std::size_t F, class Target, class... Rest>
void training_batches(const communicator&, train::dataset<F, Target>&&, Rest&&...) = delete;  // would dangle

}  // namespace tapeless::dist
