#pragma once
// What a training loop measures: mean loss, accuracy from logits, time and
// throughput, and the per-epoch record the progress display and the CSV log
// print. Meters count only the rows a batch marks valid, so a padded last
// evaluation batch counts each sample once.
//
//   tl::train::classification_meter val;
//   for (const auto& b : val_batches.epoch(0)) val.add(predict(params, X = b.features), b);
//   val.loss(), val.accuracy()         // mean cross-entropy and accuracy over the N samples

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>

#include <tapeless/core/tensor.hpp>

namespace tapeless::train {

// "Not measured" (no validation set, no time passed) is a NaN of its own, so
// that a loss that is NaN because training diverged is told apart from it:
// the progress line and the CSV log show that one as "nan", and leave a value
// not measured out. Arithmetic never makes this NaN: it only comes from here.
inline constexpr double not_measured = std::bit_cast<double>(std::uint64_t{0x7ff8'0000'6e6f'6e65});  // "none"

// False for not_measured alone; a NaN that was measured is measured.
constexpr bool is_measured(double value) noexcept {
  return std::bit_cast<std::uint64_t>(value) != std::bit_cast<std::uint64_t>(not_measured);
}

// A running mean, each value with a weight (a batch's mean loss, weighted by
// its rows, gives the mean over rows).
class mean_meter {
 public:
  constexpr void add(double value, double weight = 1) noexcept {
    sum_ += value * weight;
    weight_ += weight;
  }
  // NaN before anything is added.
  constexpr double mean() const noexcept { return weight_ > 0 ? sum_ / weight_ : not_measured; }
  constexpr double weight() const noexcept { return weight_; }
  constexpr void reset() noexcept { sum_ = weight_ = 0; }

 private:
  double sum_ = 0;
  double weight_ = 0;
};

// The position of the largest value, the first one on ties (as numpy and
// PyTorch do); a NaN never wins, so a row of NaNs gives 0.
inline std::size_t argmax(std::span<const float> row) noexcept {
  std::size_t best = 0;
  for (std::size_t i = 1; i < row.size(); ++i)
    if (row[i] > row[best] || (std::isnan(row[best]) && !std::isnan(row[i]))) best = i;
  return best;
}

namespace detail {
inline std::int32_t checked_label(std::int32_t label, std::size_t row, std::size_t classes) {
  if (label < 0 || static_cast<std::size_t>(label) >= classes)
    throw std::out_of_range("tl::train: label " + std::to_string(label) + " in row " + std::to_string(row) +
                            " is outside the " + std::to_string(classes) +
                            " classes of the logits (see dataset::check_labels)");
  return label;
}
}  // namespace detail

// Accuracy: the share of valid rows whose argmax of logits is the label.
class accuracy_meter {
 public:
  template <std::size_t B, std::size_t C>
  void add(const tensor<float, B, C>& logits, const tensor<std::int32_t, B>& labels, std::size_t valid = B) {
    valid = std::min(valid, B);
    for (std::size_t r = 0; r < valid; ++r) {
      const auto label = detail::checked_label(labels[r], r, C);
      correct_ += argmax(std::span<const float>(logits.data() + r * C, C)) == static_cast<std::size_t>(label);
    }
    count_ += valid;
  }
  // From a batch: its labels and its valid rows.
  template <std::size_t B, std::size_t C, class Batch>
  void add(const tensor<float, B, C>& logits, const Batch& batch) {
    add(logits, batch.targets, batch.valid);
  }

  std::size_t correct() const noexcept { return correct_; }
  std::size_t count() const noexcept { return count_; }
  // NaN before any row is counted.
  double accuracy() const noexcept { return count_ ? static_cast<double>(correct_) / static_cast<double>(count_) : not_measured; }
  void reset() noexcept { correct_ = count_ = 0; }

 private:
  std::size_t correct_ = 0;
  std::size_t count_ = 0;
};

// Mean cross-entropy (softmax over each row of logits, computed stably as
// logsumexp - logit[label]) and accuracy, over valid rows only.
class classification_meter {
 public:
  template <std::size_t B, std::size_t C>
  void add(const tensor<float, B, C>& logits, const tensor<std::int32_t, B>& labels, std::size_t valid = B) {
    valid = std::min(valid, B);
    for (std::size_t r = 0; r < valid; ++r) {
      const std::span<const float> row(logits.data() + r * C, C);
      const auto label = detail::checked_label(labels[r], r, C);
      const double top = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (const float v : row) sum += std::exp(static_cast<double>(v) - top);
      loss_.add(top + std::log(sum) - static_cast<double>(row[static_cast<std::size_t>(label)]));
    }
    accuracy_.add(logits, labels, valid);
  }
  template <std::size_t B, std::size_t C, class Batch>
  void add(const tensor<float, B, C>& logits, const Batch& batch) {
    add(logits, batch.targets, batch.valid);
  }

  double loss() const noexcept { return loss_.mean(); }
  double accuracy() const noexcept { return accuracy_.accuracy(); }
  std::size_t count() const noexcept { return accuracy_.count(); }
  void reset() noexcept {
    loss_.reset();
    accuracy_.reset();
  }

 private:
  mean_meter loss_;
  accuracy_meter accuracy_;
};

// Wall time and throughput of an epoch.
template <class Clock = std::chrono::steady_clock>
class epoch_timer {
 public:
  epoch_timer() noexcept : start_(Clock::now()) {}
  void start() noexcept {
    start_ = Clock::now();
    samples_ = 0;
  }
  void add(std::size_t samples) noexcept { samples_ += samples; }
  std::size_t samples() const noexcept { return samples_; }
  double seconds() const noexcept { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  // NaN while no time has passed.
  double samples_per_second() const noexcept {
    const double s = seconds();
    return s > 0 ? static_cast<double>(samples_) / s : not_measured;
  }

 private:
  typename Clock::time_point start_;
  std::size_t samples_ = 0;
};

// One epoch's record. not_measured (a NaN, see is_measured) means not
// measured (no validation set, say): the CSV log writes an empty cell. A
// measured NaN (a diverged loss) is written "nan".
struct epoch_metrics {
  std::size_t epoch = 0;
  double train_loss = not_measured;
  double train_accuracy = not_measured;
  double val_loss = not_measured;
  double val_accuracy = not_measured;
  double learning_rate = not_measured;
  double seconds = not_measured;
  double samples_per_second = not_measured;
};

}  // namespace tapeless::train
