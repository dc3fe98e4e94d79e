#pragma once
// Early stopping: stop when a monitored metric has not improved for
// `patience` epochs, and keep a copy of the parameters of the best epoch.
//
//   tl::train::early_stopping<decltype(params)> stop({.patience = 5, .min_delta = 1e-4});
//   for (std::size_t epoch = 0; ...; ++epoch) {
//     ... train, evaluate ...
//     if (stop.update(epoch, val_loss, params)) break;
//   }
//   stop.restore_best(params);          // the weights of stop.best_epoch()
//
// A metric that is NaN or infinite (and measured: see is_measured) means the
// run has diverged; it never improves, and update() says to stop at once
// rather than wait out the patience on weights that will not recover.
// restore_best() then brings back the last finite best.
//
// Params is anything copyable: a tl::parameters_of store copies by value
// (its gradients too). The first improvement copies; later ones assign, which
// for a heap-stored store reuses its allocation.

#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <type_traits>

#include <tapeless/train/metrics.hpp>

namespace tapeless::train {

enum class metric_mode {
  min,  // lower is better (a loss)
  max,  // higher is better (an accuracy)
};

struct early_stopping_options {
  // Stop after this many epochs in a row without improvement (as Keras and
  // Lightning count: 0 and 1 both stop at the first epoch that does not improve).
  std::size_t patience = 5;
  // An improvement must beat the best by more than this.
  double min_delta = 0;
  metric_mode mode = metric_mode::min;
};

template <class Params>
class early_stopping {
  static_assert(std::is_copy_constructible_v<Params> && std::is_copy_assignable_v<Params>,
                "tl::train::early_stopping<Params>: Params must be copyable to keep the best weights "
                "(a tl::parameters_of store is)");

 public:
  explicit early_stopping(early_stopping_options options = {}) : options_(options) {}

  // Records epoch `epoch`'s metric and, if it improved on the best by more
  // than min_delta, a copy of `params`. Returns true when training should
  // stop. A NaN metric never improves; a measured NaN or infinity (the run
  // diverged) stops at once.
  bool update(std::size_t epoch, double value, const Params& params) {
    if (is_measured(value) && !std::isfinite(value)) diverged_ = true;
    if (is_improvement(value)) {
      best_value_ = value;
      best_epoch_ = epoch;
      if (best_params_)
        *best_params_ = params;
      else
        best_params_.emplace(params);
      epochs_without_improvement_ = 0;
      improved_ = true;
    } else {
      ++epochs_without_improvement_;
      improved_ = false;
    }
    return should_stop();
  }

  bool should_stop() const noexcept {
    return diverged_ || (epochs_without_improvement_ > 0 && epochs_without_improvement_ >= options_.patience);
  }
  // Was a metric NaN or infinite (measured so)?
  bool diverged() const noexcept { return diverged_; }
  // Did the last update improve?
  bool improved() const noexcept { return improved_; }
  std::size_t epochs_without_improvement() const noexcept { return epochs_without_improvement_; }
  bool has_best() const noexcept { return best_params_.has_value(); }
  // The best epoch and value so far; meaningful once has_best().
  std::size_t best_epoch() const noexcept { return best_epoch_; }
  double best_value() const noexcept { return best_value_; }
  // The parameters of the best epoch, or nullptr before any.
  const Params* best_params() const noexcept { return best_params_ ? &*best_params_ : nullptr; }

  // Copies the best epoch's parameters into `params`; false (and `params`
  // unchanged) if no epoch has been recorded with a number.
  bool restore_best(Params& params) const {
    if (!best_params_) return false;
    params = *best_params_;
    return true;
  }

  void reset() {
    best_params_.reset();
    best_value_ = std::numeric_limits<double>::quiet_NaN();
    best_epoch_ = epochs_without_improvement_ = 0;
    improved_ = diverged_ = false;
  }

  const early_stopping_options& options() const noexcept { return options_; }

 private:
  bool is_improvement(double value) const noexcept {
    if (!std::isfinite(value)) return false;
    if (!best_params_) return true;
    return options_.mode == metric_mode::min ? value < best_value_ - options_.min_delta
                                             : value > best_value_ + options_.min_delta;
  }

  early_stopping_options options_;
  std::optional<Params> best_params_;
  double best_value_ = std::numeric_limits<double>::quiet_NaN();
  std::size_t best_epoch_ = 0;
  std::size_t epochs_without_improvement_ = 0;
  bool improved_ = false;
  bool diverged_ = false;
};

}  // namespace tapeless::train
