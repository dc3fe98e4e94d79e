#define BOOST_TEST_MODULE train_metrics
#include <boost/test/unit_test.hpp>

#include <tapeless/expr/parameters_of.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/train/batch.hpp>
#include <tapeless/train/early_stopping.hpp>
#include <tapeless/train/metrics.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace tl = tapeless;
namespace tt = tapeless::train;

namespace {

// A clock the test moves by hand.
struct manual_clock {
  using rep = long long;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<manual_clock>;
  static constexpr bool is_steady = true;
  static inline time_point current{};
  static time_point now() noexcept { return current; }
};

constexpr auto W = tl::param<"w", float, 3>;
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

}  // namespace

BOOST_AUTO_TEST_CASE(mean_meter_weights_each_value_by_its_rows) {
  tt::mean_meter loss;
  BOOST_TEST(std::isnan(loss.mean()));
  loss.add(1.0, 64);  // a full batch of mean loss 1
  loss.add(4.0, 16);  // a last batch of 16 valid rows
  BOOST_TEST(loss.mean() == (64 * 1.0 + 16 * 4.0) / 80, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(loss.weight() == 80.0);
  loss.reset();
  BOOST_TEST(std::isnan(loss.mean()));
}

BOOST_AUTO_TEST_CASE(argmax_takes_the_first_maximum_and_never_a_nan) {
  const float ties[] = {1, 3, 3, 2};
  BOOST_TEST(tt::argmax(ties) == 1u);
  const float with_nan[] = {std::nanf(""), 0.5f, 2.f, std::nanf("")};
  BOOST_TEST(tt::argmax(with_nan) == 2u);
  const float negative[] = {-3, -1, -2};
  BOOST_TEST(tt::argmax(negative) == 1u);
}

BOOST_AUTO_TEST_CASE(accuracy_counts_only_valid_rows) {
  tl::tensor<float, 4, 3> logits{};
  logits(0, 2) = 1;  // row 0 says 2
  logits(1, 0) = 1;  // row 1 says 0
  logits(2, 1) = 1;  // row 2 says 1
  logits(3, 1) = 1;  // row 3 says 1 (a pad row)
  tl::tensor<std::int32_t, 4> labels{};
  labels(0) = 2;
  labels(1) = 1;
  labels(2) = 1;
  labels(3) = 0;
  tt::accuracy_meter accuracy;
  accuracy.add(logits, labels, 3);
  BOOST_TEST(accuracy.correct() == 2u);
  BOOST_TEST(accuracy.count() == 3u);
  BOOST_TEST(accuracy.accuracy() == 2.0 / 3.0, boost::test_tools::tolerance(1e-12));
  accuracy.add(logits, labels);  // all 4: rows 0 and 2 right again
  BOOST_TEST(accuracy.correct() == 4u);
  BOOST_TEST(accuracy.count() == 7u);
}

BOOST_AUTO_TEST_CASE(classification_loss_is_the_mean_cross_entropy_of_valid_rows) {
  tl::tensor<float, 3, 2> logits{};
  logits(0, 1) = static_cast<float>(std::log(3.0));  // p = (1/4, 3/4)
  logits(1, 0) = 1000.f;                               // huge but finite: needs the stable form
  logits(2, 0) = 5.f;                                  // pad row: must not count
  tl::tensor<std::int32_t, 3> labels{};
  labels(0) = 1;
  labels(1) = 1;
  labels(2) = 1;
  tt::batch<3, 1> b;
  b.targets = labels;
  b.valid = 2;
  tt::classification_meter meter;
  meter.add(logits, b);
  const double row0 = std::log(4.0 / 3.0), row1 = 1000.0;  // -log(3/4); -log(e^0 / (e^1000 + 1))
  BOOST_TEST(meter.loss() == (row0 + row1) / 2, boost::test_tools::tolerance(1e-6));
  BOOST_TEST(meter.accuracy() == 0.5);
  BOOST_TEST(meter.count() == 2u);
}

BOOST_AUTO_TEST_CASE(metrics_reject_labels_outside_the_logits) {
  tl::tensor<float, 2, 3> logits{};
  tl::tensor<std::int32_t, 2> labels{};
  labels(1) = 3;
  tt::classification_meter meter;
  BOOST_CHECK_THROW(meter.add(logits, labels), std::out_of_range);
  BOOST_CHECK_NO_THROW(meter.add(logits, labels, 1));  // the bad row is padding
}

BOOST_AUTO_TEST_CASE(epoch_timer_reports_seconds_and_samples_per_second) {
  manual_clock::current = manual_clock::time_point{};
  tt::epoch_timer<manual_clock> timer;
  BOOST_TEST(std::isnan(timer.samples_per_second()));
  timer.add(1000);
  timer.add(500);
  manual_clock::current += std::chrono::milliseconds(2500);
  BOOST_TEST(timer.seconds() == 2.5);
  BOOST_TEST(timer.samples_per_second() == 600.0);
  timer.start();
  BOOST_TEST(timer.samples() == 0u);
}

BOOST_AUTO_TEST_CASE(early_stopping_stops_after_patience_epochs_without_improvement) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 2});
  BOOST_TEST(!stop.update(1, 1.0, params));
  BOOST_TEST(!stop.update(2, 0.8, params));
  BOOST_TEST(!stop.update(3, 0.9, params));  // 1 without improvement
  BOOST_TEST(stop.epochs_without_improvement() == 1u);
  BOOST_TEST(stop.update(4, 0.85, params));  // 2: stop
  BOOST_TEST(stop.should_stop());
  BOOST_TEST(stop.best_epoch() == 2u);
  BOOST_TEST(stop.best_value() == 0.8);
}

BOOST_AUTO_TEST_CASE(early_stopping_with_patience_zero_stops_at_the_first_worse_epoch) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 0});
  BOOST_TEST(!stop.update(1, 1.0, params));
  BOOST_TEST(!stop.update(2, 0.5, params));
  BOOST_TEST(stop.update(3, 0.5, params));
}

BOOST_AUTO_TEST_CASE(early_stopping_requires_improvement_beyond_min_delta) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 5, .min_delta = 0.1});
  stop.update(1, 1.0, params);
  stop.update(2, 0.95, params);  // better, but by less than min_delta
  BOOST_TEST(!stop.improved());
  BOOST_TEST(stop.best_epoch() == 1u);
  stop.update(3, 0.85, params);
  BOOST_TEST(stop.improved());
  BOOST_TEST(stop.best_epoch() == 3u);
  BOOST_TEST(stop.epochs_without_improvement() == 0u);
}

BOOST_AUTO_TEST_CASE(early_stopping_in_max_mode_keeps_the_highest) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 1, .mode = tt::metric_mode::max});
  stop.update(1, 0.7, params);
  stop.update(2, 0.9, params);
  BOOST_TEST(stop.update(3, 0.8, params));
  BOOST_TEST(stop.best_epoch() == 2u);
  BOOST_TEST(stop.best_value() == 0.9);
}

BOOST_AUTO_TEST_CASE(early_stopping_never_takes_a_nan_as_best) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 3});
  stop.update(1, not_a_number, params);  // a diverged first epoch
  BOOST_TEST(!stop.has_best());
  stop.update(2, 2.0, params);
  stop.update(3, not_a_number, params);
  BOOST_TEST(stop.best_epoch() == 2u);
  BOOST_TEST(stop.epochs_without_improvement() == 1u);
}

template <class Storage>
void restores_best_weights() {
  auto params = tl::parameters_of<Storage>(W);
  tt::early_stopping<decltype(params)> stop({.patience = 10});
  BOOST_TEST(!stop.restore_best(params));  // nothing recorded: nothing changes
  for (std::size_t epoch = 1; epoch <= 4; ++epoch) {
    params.template get<"w">().fill(static_cast<float>(epoch));  // "training" changes the weights
    params.template grad<"w">().fill(-static_cast<float>(epoch));
    const double val_loss[] = {0, 3.0, 1.0, 2.0, 2.5};
    stop.update(epoch, val_loss[epoch], params);
  }
  BOOST_TEST(params.template get<"w">()(0) == 4.f);
  BOOST_TEST(stop.best_params()->template get<"w">()(0) == 2.f);
  BOOST_TEST(stop.restore_best(params));
  BOOST_TEST(stop.best_epoch() == 2u);
  for (const float v : params.template get<"w">()) BOOST_TEST(v == 2.f);
  BOOST_TEST(params.template grad<"w">()(2) == -2.f);
}

BOOST_AUTO_TEST_CASE(early_stopping_restores_best_weights) {
  restores_best_weights<tl::inline_storage>();
  restores_best_weights<tl::heap_storage>();
}

BOOST_AUTO_TEST_CASE(early_stopping_stops_at_once_when_the_metric_diverges) {
  auto params = tl::parameters_of(W);
  tt::early_stopping<decltype(params)> stop({.patience = 5});
  params.get<"w">().fill(1.f);
  BOOST_TEST(!stop.update(1, 2.0, params));
  params.get<"w">().fill(2.f);
  BOOST_TEST(!stop.update(2, 1.0, params));
  params.get<"w">().fill(std::nanf(""));
  BOOST_TEST(stop.update(3, not_a_number, params));  // patience 5, but the weights are gone
  BOOST_TEST(stop.diverged());
  BOOST_TEST(stop.best_epoch() == 2u);
  BOOST_TEST(stop.restore_best(params));
  BOOST_TEST(params.get<"w">()(0) == 2.f);
  // An infinite loss has diverged too; a value not measured has not.
  tt::early_stopping<decltype(params)> other({.patience = 5});
  BOOST_TEST(!other.update(1, tt::not_measured, params));
  BOOST_TEST(!other.diverged());
  BOOST_TEST(other.update(2, std::numeric_limits<double>::infinity(), params));
  BOOST_TEST(!other.has_best());
  other.reset();
  BOOST_TEST(!other.diverged());
}
