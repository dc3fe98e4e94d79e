#pragma once
// A small training driver over any step: it runs the epochs, measures, shows
// progress, logs, and asks the caller after each epoch whether to go on.
// Everything it does can be done with the pieces it uses.
//
//   auto history = tl::train::fit(train, &val,
//       [&](const auto& b) { float l = program.step(params, X = b.features, Y = b.targets);
//                            opt.step(params); return l; },
//       [&](const auto& b) { return tl::train::classifier_logits(predict(params, X = b.features)); },
//       {.epochs = 20, .progress = &std::cerr, .log_file = "metrics.csv",
//        .on_epoch_begin = [&](std::size_t epoch) { tl::optim::apply_schedule(opt, schedule, epoch); },
//        .on_epoch_end = [&](const tl::train::epoch_metrics& m) {
//          return !stop.update(m.epoch, m.val_loss, params); }});
//   stop.restore_best(params);
//
// Epochs are numbered from 0, as torch counts them: epoch e is the loader's
// epoch(e) (its shuffle), the e in on_epoch_begin, epoch_metrics::epoch, the
// progress line and the log, and apply_schedule(opt, schedule, e) in
// on_epoch_begin gives epoch e the lr torch's scheduler has after e calls of
// scheduler.step(), one per epoch.
//
// A step whose loss is NaN or infinite stops fit (the weights have diverged
// and further steps only spread the NaN): the epoch's record, with its
// train_loss shown as nan, goes to the progress stream and the log; then
// fit_options::restore_best is called, if set, and fit throws
// training_diverged, whose message names the epoch and step. Code after fit
// (a save) does not run on diverged weights unless the caller catches.
//
// The step returns the batch's mean loss (a number), a step_result that
// also counts correct rows, or a classifier_step (the loss and the step's
// logits, of which fit counts the correct rows). The evaluation returns, for a batch:
//   - tl::train::classifier_logits(z), z a tl::tensor<float, B, C> of a
//     classifier's logits: loss (cross-entropy) and accuracy are computed
//     here over the batch's valid rows;
//   - a number: the mean loss over the valid rows (any model);
//   - a step_result.
// fit does not guess what a bare tensor is (a classifier's logits, a
// regression's predictions): returning one does not compile.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapeless/core/tensor.hpp>
#include <tapeless/train/batch_loader.hpp>
#include <tapeless/train/csv_log.hpp>
#include <tapeless/train/metrics.hpp>
#include <tapeless/train/progress.hpp>

namespace tapeless::train {

// A step's or an evaluation's result when it counts correct rows too.
struct step_result {
  double loss = 0;          // mean over the batch's valid rows
  std::size_t correct = 0;  // valid rows classified correctly
};

// What a classifier's evaluation returns: its logits for the batch, a
// tl::tensor<float, B, C>, of which fit computes cross-entropy and accuracy
// over the valid rows. It refers to a tensor it is given by name (a
// program's result) and keeps a copy of a temporary.
namespace detail {
template <class T>
constexpr bool is_logits_tensor() {
  if constexpr (any_tensor<T>)
    return T::rank == 2 && std::is_same_v<typename T::value_type, float>;
  else
    return false;
}
}  // namespace detail

template <class Logits>
class classifier_logits {
  using tensor_type = std::remove_cvref_t<Logits>;
  static_assert(detail::is_logits_tensor<tensor_type>(),
                "tl::train::classifier_logits(z): z must be a tl::tensor<float, B, C> of logits, a row per sample");

 public:
  template <class T>
  explicit classifier_logits(T&& z) : logits(std::forward<T>(z)) {}
  Logits logits;
};
template <class T>
classifier_logits(T&&) -> classifier_logits<T>;

// What a classifier's training step may return: the batch's mean loss and
// the logits the step computed (tl::compile(loss, tl::step_output(logits))
// keeps them: program.step_output()). fit counts the training accuracy from
// them, with no second forward pass. Like classifier_logits, it refers to a
// named tensor and keeps a copy of a temporary.
template <class Logits>
class classifier_step {
  static_assert(detail::is_logits_tensor<std::remove_cvref_t<Logits>>(),
                "tl::train::classifier_step(loss, z): z must be a tl::tensor<float, B, C> of logits, a row per sample");

 public:
  template <class T>
  classifier_step(double mean_loss, T&& z) : loss(mean_loss), logits(std::forward<T>(z)) {}
  double loss;
  Logits logits;
};
template <class T>
classifier_step(double, T&&) -> classifier_step<T>;

struct fit_options {
  std::size_t epochs = 10;
  // Number of the first epoch (and the loader's epoch, hence its shuffle;
  // from 0): a run resumed at epoch k sees the batches an unbroken run would have.
  std::size_t first_epoch = 0;
  // Progress goes here; nullptr for none.
  std::ostream* progress = nullptr;
  progress_style style = progress_style::automatic;
  // Per-epoch metrics as CSV; empty for none.
  std::filesystem::path log_file{};
  // The learning rate to report, if the caller knows it.
  std::function<double()> learning_rate{};
  // Called before each epoch's first step, with its number: where a
  // learning-rate schedule is applied (tl::optim::apply_schedule(opt, s, epoch)).
  std::function<void(std::size_t)> on_epoch_begin{};
  // Called after each epoch's metrics are in; returning false stops.
  std::function<bool(const epoch_metrics&)> on_epoch_end{};
  // A NaN or infinite training loss stops fit with training_diverged (see
  // above); false trains on regardless.
  bool stop_on_non_finite_loss = true;
  // Called when training diverges, to bring back the best weights; returns
  // whether it did: [&] { return stop.restore_best(params); }.
  std::function<bool()> restore_best{};
};

// What fit throws when a step's loss is NaN or infinite.
class training_diverged : public std::runtime_error {
 public:
  training_diverged(const std::string& message, std::size_t epoch, std::size_t step, double loss, bool restored,
                    std::vector<epoch_metrics> history)
      : std::runtime_error(message), epoch_(epoch), step_(step), loss_(loss), restored_(restored),
        history_(std::move(history)) {}
  // The epoch, and the step in it (from 1), whose loss was not finite.
  std::size_t epoch() const noexcept { return epoch_; }
  std::size_t step() const noexcept { return step_; }
  // The epoch's running mean training loss then: NaN or infinite.
  double loss() const noexcept { return loss_; }
  // Did fit_options::restore_best bring back the best weights?
  bool restored_best() const noexcept { return restored_; }
  // The epochs' records, the diverged one last.
  const std::vector<epoch_metrics>& history() const noexcept { return history_; }

 private:
  std::size_t epoch_, step_;
  double loss_;
  bool restored_;
  std::vector<epoch_metrics> history_;
};

namespace detail {

template <class T>
inline constexpr bool is_classifier_logits = false;
template <class Logits>
inline constexpr bool is_classifier_logits<classifier_logits<Logits>> = true;
template <class T>
inline constexpr bool is_classifier_step = false;
template <class Logits>
inline constexpr bool is_classifier_step<classifier_step<Logits>> = true;
template <class>
inline constexpr bool always_false_result = false;

// Adds an evaluation's result for batch `b` to the meters.
template <class Result, class Batch>
void add_result(const Result& result, const Batch& b, mean_meter& loss, accuracy_meter& accuracy,
                std::size_t& correct, std::size_t& counted) {
  using R = std::remove_cvref_t<Result>;
  if constexpr (is_classifier_logits<R>) {
    static_assert(std::is_integral_v<typename Batch::target_type>,
                  "tl::train::fit: classifier_logits are scored against class ids, but this loader's "
                  "targets are not integers; return the batch's mean loss for a model that is not a classifier");
    classification_meter rows;
    rows.add(result.logits, b);
    loss.add(rows.loss(), static_cast<double>(rows.count()));
    accuracy.add(result.logits, b);
  } else if constexpr (is_classifier_step<R>) {
    static_assert(std::is_integral_v<typename Batch::target_type>,
                  "tl::train::fit: a classifier_step's logits are scored against class ids, but this loader's "
                  "targets are not integers");
    loss.add(result.loss, static_cast<double>(b.valid));
    accuracy.add(result.logits, b);
  } else if constexpr (any_tensor<R>) {
    static_assert(always_false_result<R>,
                  "tl::train::fit: the evaluation returned a tensor, and fit does not guess what it holds: "
                  "return tl::train::classifier_logits(z) for a classifier's logits (fit computes "
                  "cross-entropy and accuracy), or the batch's mean loss (a number) for any other model");
  } else if constexpr (std::is_same_v<R, step_result>) {
    loss.add(result.loss, static_cast<double>(b.valid));
    correct += result.correct;
    counted += b.valid;
  } else {
    static_assert(std::is_arithmetic_v<R>,
                  "tl::train::fit: a step or evaluation returns a number (the mean loss), a "
                  "tl::train::step_result, or (evaluation) a tl::tensor<float, B, C> of logits");
    loss.add(static_cast<double>(result), static_cast<double>(b.valid));
  }
}

// Accuracy from whichever way it was counted; NaN if it was not.
inline double accuracy_of(const accuracy_meter& meter, std::size_t correct, std::size_t counted) {
  if (meter.count()) return meter.accuracy();
  return counted ? static_cast<double>(correct) / static_cast<double>(counted) : not_measured;
}

// Ends a diverged run: restores the best weights if it can, says so where
// progress goes, and throws training_diverged.
[[noreturn]] inline void stop_diverged(const fit_options& options, std::size_t epoch, std::size_t step,
                                       std::size_t steps, std::vector<epoch_metrics> history) {
  const double loss = history.back().train_loss;
  const bool restored = options.restore_best && options.restore_best();
  const std::string message =
      "tl::train::fit: the training loss is " + std::string(std::isnan(loss) ? "nan" : "infinite") + " at epoch " +
      std::to_string(epoch) + ", step " + std::to_string(step) + " of " + std::to_string(steps) +
      ": training stopped (check the data for NaN or huge values, and the learning rate); " +
      (restored ? std::string("the best weights were restored")
       : options.restore_best
           ? std::string("there were no best weights to restore: the parameters hold the diverged values")
           : std::string("the parameters hold the diverged values (fit_options::restore_best can bring back "
                         "the best ones)"));
  if (options.progress) *options.progress << message << '\n' << std::flush;
  throw training_diverged(message, epoch, step, loss, restored, std::move(history));
}

template <std::size_t B, std::size_t F, class Target, class Step, class Validate>
std::vector<epoch_metrics> fit(batch_loader<B, F, Target>& train, Step& step, Validate validate,
                               const fit_options& options) {
  std::optional<progress_display<>> display;
  if (options.progress) display.emplace(*options.progress, options.style);
  std::optional<csv_log> log;
  if (!options.log_file.empty()) log.emplace(options.log_file);

  std::vector<epoch_metrics> history;
  history.reserve(options.epochs);
  const std::size_t last = options.first_epoch + options.epochs - 1;
  for (std::size_t run = 0; run < options.epochs; ++run) {
    const std::size_t epoch = options.first_epoch + run;
    const auto epoch_start = std::chrono::steady_clock::now();
    epoch_metrics m;
    m.epoch = epoch;
    mean_meter loss;
    accuracy_meter accuracy;
    std::size_t correct = 0, counted = 0;
    epoch_timer<> timer;
    if (options.on_epoch_begin) options.on_epoch_begin(epoch);
    if (display) display->begin_epoch(epoch, last, train.rows_per_epoch());
    for (const auto& b : train.epoch(epoch)) {
      add_result(step(b), b, loss, accuracy, correct, counted);
      timer.add(B);
      if (display) display->update(timer.samples(), loss.mean());
      // The running mean turns NaN or infinite with the first such loss.
      if (options.stop_on_non_finite_loss && !std::isfinite(loss.mean())) {
        m.train_loss = loss.mean();
        m.train_accuracy = accuracy_of(accuracy, correct, counted);
        m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        if (display) display->end_epoch(m);
        if (log) log->write(m);
        history.push_back(m);
        stop_diverged(options, epoch, b.index + 1, train.batches(), std::move(history));
      }
    }
    m.samples_per_second = timer.samples_per_second();
    m.train_loss = loss.mean();
    m.train_accuracy = accuracy_of(accuracy, correct, counted);
    validate(epoch, m);
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    if (options.learning_rate) m.learning_rate = options.learning_rate();
    if (display) display->end_epoch(m);
    if (log) log->write(m);
    history.push_back(m);
    if (options.on_epoch_end && !options.on_epoch_end(m)) break;
  }
  return history;
}

}  // namespace detail

// Trains with `step` on `train`, evaluating with `evaluate` on `validation`
// (if not nullptr) after each epoch. Returns the metrics of every epoch run.
template <std::size_t B, std::size_t F, class Target, std::size_t BV, class Step, class Evaluate>
std::vector<epoch_metrics> fit(batch_loader<B, F, Target>& train, batch_loader<BV, F, Target>* validation,
                               Step&& step, Evaluate&& evaluate, const fit_options& options = {}) {
  return detail::fit(train, step,
                     [&](std::size_t epoch, epoch_metrics& m) {
                       if (!validation) return;
                       mean_meter loss;
                       accuracy_meter accuracy;
                       std::size_t correct = 0, counted = 0;
                       for (const auto& b : validation->epoch(epoch))
                         detail::add_result(evaluate(b), b, loss, accuracy, correct, counted);
                       m.val_loss = loss.mean();
                       m.val_accuracy = detail::accuracy_of(accuracy, correct, counted);
                     },
                     options);
}

// Trains with `step` on `train` alone.
template <std::size_t B, std::size_t F, class Target, class Step>
std::vector<epoch_metrics> fit(batch_loader<B, F, Target>& train, Step&& step, const fit_options& options = {}) {
  return detail::fit(train, step, [](std::size_t, epoch_metrics&) {}, options);
}

// A classifier's loss (softmax cross-entropy) and accuracy over one pass of
// `loader` (the valid rows of each batch): logits_of(batch) returns the
// batch's logits, a tl::tensor<float, B, C>.
template <std::size_t B, std::size_t F, class Target, class LogitsOf>
classification_meter evaluate_classifier(batch_loader<B, F, Target>& loader, LogitsOf&& logits_of) {
  classification_meter meter;
  for (const auto& b : loader.epoch(0)) meter.add(logits_of(b), b);
  return meter;
}

}  // namespace tapeless::train
