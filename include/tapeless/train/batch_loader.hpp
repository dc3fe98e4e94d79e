#pragma once
// Fills static mini-batches from a data set, in a seeded order per epoch.
//
//   auto split = tl::train::validation_split(data.size(), 0.1, 7);
//   auto train = tl::train::training_batches<64>(data, split.train, /*seed*/ 42);
//   auto val   = tl::train::evaluation_batches<64>(data, split.validation);
//   for (std::size_t epoch = 0; epoch < 10; ++epoch)
//     for (const auto& b : train.epoch(epoch))        // const tl::train::batch<64, 784>&
//       program.step(params, X = b.features, Y = b.targets);
//
// The loader owns one batch, allocated when it is built; filling it copies B
// rows into it and allocates nothing. It reads the data set in place, so the
// data set must outlive it. See last_batch for the treatment of the last,
// partial batch (training: wrap; evaluation: pad).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/train/batch.hpp>
#include <tapeless/train/data_error.hpp>
#include <tapeless/train/dataset.hpp>
#include <tapeless/train/shuffle.hpp>
#include <tapeless/train/split.hpp>

namespace tapeless::train {

// The part of each batch one process of a data-parallel run fills
// (tl::dist): every process shuffles the same order (same seed), a global
// batch is B * count consecutive rows of it, and process `index` takes rows
// [index * B, (index + 1) * B) of each, so count processes with batches of B
// see together exactly the batches of one process with batches of B * count.
// The default, {0, 1}, is the whole batch.
struct loader_shard {
  std::size_t index = 0;
  std::size_t count = 1;
};

struct loader_options {
  last_batch last = last_batch::wrap;
  // Shuffle the rows at the start of each epoch, from (seed, epoch) alone.
  bool shuffle = true;
  std::uint64_t seed = 0;
  // Class ids must be in [0, classes) (std::int32_t targets); 0 takes the
  // data set's declared classes (dataset::declare_classes), if any.
  std::size_t classes = 0;
  loader_shard shard{};
};

template <std::size_t B, std::size_t F, class Target = std::int32_t>
class batch_loader {
 public:
  using batch_type = batch<B, F, Target>;
  using dataset_type = dataset<F, Target>;

  // Batches of the rows `indices` of `data` (each index at most once is the
  // usual use; repeats are allowed and are then distinct samples).
  batch_loader(const dataset_type& data, std::vector<std::size_t> indices, loader_options options)
      : data_(&data), base_(std::move(indices)), order_(base_), options_(options),
        batch_(std::make_unique<batch_type>()) {
    if (base_.empty()) throw std::invalid_argument("tl::train::batch_loader: no samples to load");
    if (options_.shard.count == 0 || options_.shard.index >= options_.shard.count)
      throw std::invalid_argument("tl::train::batch_loader: shard " + std::to_string(options_.shard.index) + " of " +
                                  std::to_string(options_.shard.count) +
                                  ": the index must be below the count (a rank below the number of ranks)");
    for (const std::size_t i : base_)
      if (i >= data.size())
        throw std::out_of_range("tl::train::batch_loader: index " + std::to_string(i) + " is outside the " +
                                std::to_string(data.size()) + " samples of " + data.source());
    const std::size_t global = B * options_.shard.count;  // rows per step of all shards together
    if (options_.last == last_batch::drop && base_.size() < global)
      throw std::invalid_argument("tl::train::batch_loader: last_batch::drop with " + std::to_string(base_.size()) +
                                  " samples and batches of " + std::to_string(global) + " leaves no batch");
    check_class_ids(data);
    batches_ = options_.last == last_batch::drop ? base_.size() / global : (base_.size() + global - 1) / global;
    start_epoch(0);
  }
  // All rows of `data`.
  batch_loader(const dataset_type& data, loader_options options)
      : batch_loader(data, all_indices(data.size()), options) {}
  // The loader reads the data set in place: a temporary would dangle.
  batch_loader(dataset_type&&, std::vector<std::size_t>, loader_options) = delete;
  batch_loader(dataset_type&&, loader_options) = delete;

  // Samples per epoch (N), batches per epoch, and rows the program reads per
  // epoch (batches * B).
  std::size_t samples() const noexcept { return base_.size(); }
  std::size_t batches() const noexcept { return batches_; }
  std::size_t rows_per_epoch() const noexcept { return batches_ * B; }
  const loader_options& options() const noexcept { return options_; }

  // Starts epoch `epoch`: its order is the loader's rows shuffled by
  // epoch_stream(seed, epoch), or as given when not shuffling.
  void start_epoch(std::size_t epoch) noexcept {
    std::copy(base_.begin(), base_.end(), order_.begin());
    if (options_.shuffle) {
      random_stream rng = epoch_stream(options_.seed, epoch);
      shuffle(std::span(order_), rng);
    }
    epoch_ = epoch;
    next_ = 0;
  }

  // Fills the next batch of the epoch and returns it; nullptr after the last.
  const batch_type* next() noexcept {
    if (next_ == batches_) return nullptr;
    batch_type& b = *batch_;
    const std::size_t n = order_.size();
    const std::size_t first = (next_ * options_.shard.count + options_.shard.index) * B;
    // Positions past the end wrap to the start of this epoch's order: the
    // completion rows of last_batch::wrap and pad (several times over if N < B),
    // as they would in the global batch this shard is part of.
    for (std::size_t r = 0, position = first % n; r < B; ++r, position = position + 1 == n ? 0 : position + 1) {
      const std::size_t i = order_[position];
      std::copy_n(data_->features(i).data(), F, b.features.data() + r * F);
      b.targets[r] = data_->target(i);
    }
    b.fresh = first < n ? std::min(B, n - first) : 0;
    b.valid = options_.last == last_batch::pad ? b.fresh : B;
    b.index = next_++;
    b.epoch = epoch_;
    return &b;
  }

  // The batch last filled.
  const batch_type& current() const noexcept { return *batch_; }
  // This epoch's order of sample indices.
  std::span<const std::size_t> order() const noexcept { return order_; }

  // An input range over the batches of epoch `epoch` (calls start_epoch).
  class epoch_range {
   public:
    class iterator {
     public:
      using value_type = batch_type;
      using difference_type = std::ptrdiff_t;
      iterator() = default;
      const batch_type& operator*() const noexcept { return *current_; }
      const batch_type* operator->() const noexcept { return current_; }
      iterator& operator++() noexcept {
        current_ = loader_->next();
        return *this;
      }
      void operator++(int) noexcept { ++*this; }
      friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.current_ == nullptr; }

     private:
      friend epoch_range;
      iterator(batch_loader* loader, const batch_type* current) : loader_(loader), current_(current) {}
      batch_loader* loader_ = nullptr;
      const batch_type* current_ = nullptr;
    };
    iterator begin() noexcept { return iterator(loader_, loader_->next()); }
    std::default_sentinel_t end() const noexcept { return {}; }

   private:
    friend batch_loader;
    explicit epoch_range(batch_loader* loader) : loader_(loader) {}
    batch_loader* loader_;
  };

  epoch_range epoch(std::size_t epoch) noexcept {
    start_epoch(epoch);
    return epoch_range(this);
  }

 private:
  // Every row this loader will fill a batch from holds a class id in range:
  // checked once here, so next() stays a copy that cannot fail.
  void check_class_ids(const dataset_type& data) const {
    if constexpr (std::is_same_v<Target, std::int32_t>) {
      const std::size_t classes = options_.classes ? options_.classes : data.classes();
      if (!classes) return;
      for (const std::size_t i : base_) {
        const std::int32_t id = data.target(i);
        if (id < 0 || static_cast<std::size_t>(id) >= classes)
          throw data_error(data.labels_source(),
                           detail::class_id_out_of_range("row " + std::to_string(i), id, classes));
      }
    }
  }

  const dataset_type* data_;
  std::vector<std::size_t> base_;   // the rows, in the order given
  std::vector<std::size_t> order_;  // this epoch's permutation of base_
  loader_options options_;
  std::unique_ptr<batch_type> batch_;  // on the heap: B * F floats do not belong on the stack
  std::size_t batches_ = 0;
  std::size_t next_ = 0;
  std::size_t epoch_ = 0;
};

// Training batches: shuffled per epoch from `seed`, last batch wrapped.
template <std::size_t B, std::size_t F, class Target>
batch_loader<B, F, Target> training_batches(const dataset<F, Target>& data, std::vector<std::size_t> indices,
                                            std::uint64_t seed, last_batch last = last_batch::wrap) {
  return batch_loader<B, F, Target>(data, std::move(indices), {.last = last, .shuffle = true, .seed = seed});
}
template <std::size_t B, std::size_t F, class Target>
batch_loader<B, F, Target> training_batches(const dataset<F, Target>& data, std::uint64_t seed,
                                            last_batch last = last_batch::wrap) {
  return training_batches<B>(data, all_indices(data.size()), seed, last);
}

// Evaluation batches: in the order given, last batch padded (valid < B).
template <std::size_t B, std::size_t F, class Target>
batch_loader<B, F, Target> evaluation_batches(const dataset<F, Target>& data, std::vector<std::size_t> indices,
                                              last_batch last = last_batch::pad) {
  return batch_loader<B, F, Target>(data, std::move(indices), {.last = last, .shuffle = false, .seed = 0});
}
template <std::size_t B, std::size_t F, class Target>
batch_loader<B, F, Target> evaluation_batches(const dataset<F, Target>& data, last_batch last = last_batch::pad) {
  return evaluation_batches<B>(data, all_indices(data.size()), last);
}

template <std::size_t B, std::size_t F, class Target, class... Rest>
void training_batches(dataset<F, Target>&&, Rest&&...) = delete;  // would dangle: keep the data set alive
template <std::size_t B, std::size_t F, class Target, class... Rest>
void evaluation_batches(dataset<F, Target>&&, Rest&&...) = delete;  // would dangle: keep the data set alive

}  // namespace tapeless::train
