#define BOOST_TEST_MODULE train_fit
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>
#include <tapeless/train.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "train/temp_dir.hpp"

namespace tl = tapeless;
namespace tt = tapeless::train;

namespace {

// Three Gaussian blobs in the plane, one per class.
tt::dataset<2> blobs(std::size_t n, std::uint64_t seed) {
  tl::random_stream rng{seed};
  const float centres[3][2] = {{-2, 0}, {2, 0}, {0, 3}};
  tt::dataset<2> data;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::size_t>(rng.below(3));
    const float row[2] = {centres[c][0] + 0.5f * rng.normal(), centres[c][1] + 0.5f * rng.normal()};
    data.push_back(std::span<const float, 2>(row), static_cast<std::int32_t>(c));
  }
  return data;
}

// Softmax regression written by hand: the fit driver takes any step.
struct softmax_regression {
  float w[3][2] = {};
  float b[3] = {};

  template <std::size_t B>
  tl::tensor<float, B, 3> logits(const tt::batch<B, 2>& batch) const {
    tl::tensor<float, B, 3> out;
    for (std::size_t r = 0; r < B; ++r)
      for (std::size_t c = 0; c < 3; ++c)
        out(r, c) = b[c] + w[c][0] * batch.features(r, 0) + w[c][1] * batch.features(r, 1);
    return out;
  }

  // One SGD step on the batch; returns the mean loss before it.
  template <std::size_t B>
  float step(const tt::batch<B, 2>& batch, float lr) {
    const auto z = logits(batch);
    float gw[3][2] = {}, gb[3] = {};
    double loss = 0;
    for (std::size_t r = 0; r < B; ++r) {
      const float top = std::max({z(r, 0), z(r, 1), z(r, 2)});
      float p[3], sum = 0;
      for (std::size_t c = 0; c < 3; ++c) sum += p[c] = std::exp(z(r, c) - top);
      const auto y = static_cast<std::size_t>(batch.targets(r));
      loss += std::log(sum) - (z(r, y) - top);
      for (std::size_t c = 0; c < 3; ++c) {
        const float g = (p[c] / sum - (c == y ? 1.f : 0.f)) / B;
        gb[c] += g;
        gw[c][0] += g * batch.features(r, 0);
        gw[c][1] += g * batch.features(r, 1);
      }
    }
    for (std::size_t c = 0; c < 3; ++c) {
      b[c] -= lr * gb[c];
      w[c][0] -= lr * gw[c][0];
      w[c][1] -= lr * gw[c][1];
    }
    return static_cast<float>(loss / B);
  }
};

std::size_t lines_in(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

BOOST_AUTO_TEST_CASE(fit_trains_a_classifier_and_reports_each_epoch) {
  const auto data = blobs(500, 3);
  const auto split = tt::validation_split(data.size(), 0.2, 4);
  auto train = tt::training_batches<16>(data, split.train, 5);
  auto val = tt::evaluation_batches<32>(data, split.validation);  // another batch size is fine
  softmax_regression model;
  tapeless_test::temp_dir dir;
  std::ostringstream progress;
  const auto history = tt::fit(
      train, &val, [&](const auto& b) { return model.step(b, 0.5f); },
      [&](const auto& b) { return tt::classifier_logits(model.logits(b)); },
      {.epochs = 8, .progress = &progress, .log_file = dir / "log.csv", .learning_rate = [] { return 0.5; }});
  BOOST_REQUIRE(history.size() == 8u);
  BOOST_TEST(history.front().epoch == 0u);  // epochs count from 0, as torch's
  BOOST_TEST(history.back().epoch == 7u);
  BOOST_TEST(history.back().train_loss < history.front().train_loss);
  BOOST_TEST(history.back().val_accuracy > 0.95);
  BOOST_TEST(history.back().val_loss < 0.3);
  BOOST_TEST(std::isnan(history.back().train_accuracy));  // the step did not count correct rows
  BOOST_TEST(history.back().learning_rate == 0.5);
  BOOST_TEST(history.back().seconds >= 0.0);
  BOOST_TEST(history.back().samples_per_second > 0.0);
  BOOST_TEST(lines_in(progress.str()) == 8u);  // not a terminal: one line per epoch
  std::ifstream log(dir / "log.csv");
  const std::string text{std::istreambuf_iterator<char>(log), {}};
  BOOST_TEST(lines_in(text) == 9u);
  BOOST_TEST(text.rfind(tt::csv_log::header, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(fit_counts_each_validation_sample_once) {
  const auto data = blobs(10, 1);
  auto train = tt::training_batches<4>(data, 1);
  auto val = tt::evaluation_batches<4>(data);  // batches of 4, 4 and 2 valid rows
  std::size_t evaluated = 0;
  const auto history = tt::fit(
      train, &val, [](const auto&) { return 1.0f; },
      // The "loss" of a batch is its number of valid rows, and all of them are
      // right: weighted by valid rows, the mean is (4*4 + 4*4 + 2*2) / 10.
      [&](const auto& b) {
        ++evaluated;
        return tt::step_result{static_cast<double>(b.valid), b.valid};
      },
      {.epochs = 2});
  BOOST_TEST(evaluated == 6u);
  BOOST_TEST(history.at(1).val_loss == 3.6, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(history.at(1).val_accuracy == 1.0);
  BOOST_TEST(history.at(1).train_loss == 1.0);
}

BOOST_AUTO_TEST_CASE(fit_stops_early_and_the_best_weights_come_back) {
  const auto data = blobs(20, 2);
  auto train = tt::training_batches<8>(data, 1);
  auto val = tt::evaluation_batches<8>(data);
  std::array<float, 1> weights{0};  // stands for a parameter store: anything copyable
  tt::early_stopping<std::array<float, 1>> stop({.patience = 2});
  const std::array<double, 6> val_losses{1.0, 0.5, 0.7, 0.8, 0.2, 0.1};
  std::size_t epoch_seen = 0;
  const auto history = tt::fit(
      train, &val,
      [&](const auto& b) {
        epoch_seen = b.epoch;
        weights[0] = static_cast<float>(b.epoch);  // "training"
        return 1.0f;
      },
      [&](const auto& b) { return val_losses.at(b.epoch); },
      {.epochs = 6, .on_epoch_end = [&](const tt::epoch_metrics& m) { return !stop.update(m.epoch, m.val_loss, weights); }});
  BOOST_TEST(history.size() == 4u);  // epochs 2 and 3 did not improve on 1
  BOOST_TEST(epoch_seen == 3u);
  BOOST_TEST(stop.best_epoch() == 1u);
  BOOST_TEST(weights[0] == 3.f);
  BOOST_TEST(stop.restore_best(weights));
  BOOST_TEST(weights[0] == 1.f);
}

BOOST_AUTO_TEST_CASE(fit_without_validation_resumes_at_a_given_epoch) {
  const auto data = blobs(12, 2);
  auto train = tt::training_batches<4>(data, 9);
  auto reference = tt::training_batches<4>(data, 9);
  reference.start_epoch(5);
  const std::vector<std::size_t> expected(reference.order().begin(), reference.order().end());
  std::vector<std::size_t> first_batch_epochs;
  bool same_order = false;
  const auto history = tt::fit(
      train,
      [&](const auto& b) {
        if (b.index == 0) first_batch_epochs.push_back(b.epoch);
        if (b.epoch == 5) same_order = std::equal(expected.begin(), expected.end(), train.order().begin());
        return tt::step_result{0.25, 3};
      },
      {.epochs = 2, .first_epoch = 5});
  BOOST_TEST(first_batch_epochs == (std::vector<std::size_t>{5, 6}), boost::test_tools::per_element());
  BOOST_TEST(same_order);  // epoch 5 shuffled as in an unbroken run
  BOOST_TEST(history.at(0).epoch == 5u);
  BOOST_TEST(history.at(0).train_accuracy == 0.75);  // 3 correct of 4 valid rows, every batch
  BOOST_TEST(history.at(0).train_loss == 0.25);
  BOOST_TEST(std::isnan(history.at(0).val_loss));
  BOOST_TEST(std::isnan(history.at(0).learning_rate));
}

BOOST_AUTO_TEST_CASE(fit_stops_on_a_nan_feature_naming_epoch_and_step_and_restores_the_best_weights) {
  auto data = blobs(60, 2);
  auto train = tt::training_batches<8>(data, 3);
  auto val = tt::evaluation_batches<8>(data);
  softmax_regression model;
  tt::early_stopping<softmax_regression> stop({.patience = 5});
  std::ostringstream progress;
  tapeless_test::temp_dir dir;
  constexpr std::size_t poisoned = 17;
  try {
    tt::fit(train, &val, [&](const auto& b) { return model.step(b, 0.5f); },
            [&](const auto& b) { return tt::classifier_logits(model.logits(b)); },
            {.epochs = 10,
             .progress = &progress,
             .log_file = dir / "log.csv",
             .on_epoch_end =
                 [&](const tt::epoch_metrics& m) {
                   // One NaN feature arrives after two good epochs.
                   if (m.epoch == 1) data.features(poisoned)[0] = std::nanf("");
                   return !stop.update(m.epoch, m.val_loss, model);
                 },
             .restore_best = [&] { return stop.restore_best(model); }});
    BOOST_FAIL("fit went on through a NaN loss");
  } catch (const tt::training_diverged& e) {
    // The step that read the poisoned row, in epoch 2's order.
    const auto order = train.order();
    const auto at = static_cast<std::size_t>(std::find(order.begin(), order.end(), poisoned) - order.begin());
    const std::size_t step = at / 8 + 1;
    BOOST_TEST(e.epoch() == 2u);
    BOOST_TEST(e.step() == step);
    BOOST_TEST(std::isnan(e.loss()));
    BOOST_TEST(e.restored_best());
    const std::string where = "the training loss is nan at epoch 2, step " + std::to_string(step) + " of 8";
    BOOST_TEST(std::string(e.what()).find(where) != std::string::npos, e.what());
    BOOST_TEST(std::string(e.what()).find("the best weights were restored") != std::string::npos);
    BOOST_REQUIRE(e.history().size() == 3u);
    BOOST_TEST(std::isnan(e.history().back().train_loss));
    BOOST_TEST(progress.str().find(where) != std::string::npos);
    BOOST_TEST(progress.str().find("epoch 2/9  train_loss nan") != std::string::npos, progress.str());
  }
  // The weights are those of the best epoch, and finite.
  BOOST_TEST(stop.best_epoch() == 1u);
  const softmax_regression& best = *stop.best_params();
  for (std::size_t c = 0; c < 3; ++c) {
    BOOST_TEST(std::isfinite(model.b[c]));
    BOOST_TEST(model.b[c] == best.b[c]);
    BOOST_TEST(model.w[c][0] == best.w[c][0]);
  }
  std::ifstream log(dir / "log.csv");
  const std::string text{std::istreambuf_iterator<char>(log), {}};
  BOOST_TEST(text.find("\n2,nan,") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(fit_diverging_from_the_first_epoch_says_there_is_nothing_to_restore) {
  auto data = blobs(16, 2);
  data.features(0)[1] = std::numeric_limits<float>::infinity();
  auto train = tt::training_batches<4>(data, 3);
  softmax_regression model;
  tt::early_stopping<softmax_regression> stop;
  try {
    tt::fit(train, [&](const auto& b) { return model.step(b, 0.5f); },
            {.epochs = 3, .restore_best = [&] { return stop.restore_best(model); }});
    BOOST_FAIL("fit went on through a non-finite loss");
  } catch (const tt::training_diverged& e) {
    BOOST_TEST(e.epoch() == 0u);
    BOOST_TEST(!e.restored_best());
    BOOST_TEST(std::string(e.what()).find("no best weights to restore") != std::string::npos, e.what());
  }
  // Asked to, fit trains on.
  softmax_regression other;
  const auto history = tt::fit(train, [&](const auto& b) { return other.step(b, 0.5f); },
                               {.epochs = 2, .stop_on_non_finite_loss = false});
  BOOST_TEST(history.size() == 2u);
  BOOST_TEST(!std::isfinite(history.back().train_loss));
}

namespace {
template <class Schedule>
struct schedule_case {
  Schedule schedule;
  float base_lr;
  std::array<double, 20> lr;
};
template <class Schedule>
schedule_case(Schedule, float, std::array<double, 20>) -> schedule_case<Schedule>;
#include "reference/optim_schedules.inc"
}  // namespace

BOOST_AUTO_TEST_CASE(the_lr_fit_uses_in_epoch_e_is_the_schedule_at_e_and_torch_after_e_scheduler_steps) {
  const auto& c = std::get<0>(schedule_cases);  // step_lr, torch's lr at epochs 0 to 19
  const auto data = blobs(12, 2);
  auto train = tt::training_batches<4>(data, 9);
  using store = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"w", float, tl::shape<2>>>;
  store params;
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = c.base_lr});
  std::vector<double> used(10, -1);
  std::size_t begun = 0;
  const auto history = tt::fit(
      train,
      [&](const auto& b) {
        used.at(b.epoch) = opt.lr();
        opt.step(params);
        return 1.0f;
      },
      {.epochs = 10,
       .learning_rate = [&] { return double(opt.lr()); },
       .on_epoch_begin =
           [&](std::size_t epoch) {
             BOOST_TEST(epoch == begun++);
             tl::optim::apply_schedule(opt, c.schedule, epoch);
           }});
  for (std::size_t e = 0; e < 10; ++e) {
    BOOST_TEST(history.at(e).epoch == e);
    BOOST_TEST(used[e] == static_cast<double>(c.schedule(c.base_lr, e)));
    BOOST_TEST(std::abs(used[e] - c.lr[e]) <= 1e-6 * c.lr[e], "epoch " << e << ": " << used[e] << " vs torch " << c.lr[e]);
    BOOST_TEST(history.at(e).learning_rate == used[e]);  // what fit reports is what the epoch used
  }
}

BOOST_AUTO_TEST_CASE(a_step_returning_its_logits_gives_the_training_accuracy_without_another_forward_pass) {
  const auto data = blobs(64, 4);
  auto train = tt::training_batches<16>(data, 5);
  softmax_regression model;
  std::size_t correct = 0, rows = 0;
  const auto history = tt::fit(
      train,
      [&](const auto& b) {
        auto z = model.logits(b);  // what a compiled step keeps in step_output()
        for (std::size_t r = 0; r < b.valid; ++r)
          correct += tt::argmax(std::span<const float>(z.data() + r * 3, 3)) == static_cast<std::size_t>(b.targets(r));
        rows += b.valid;
        return tt::classifier_step(model.step(b, 0.5f), std::move(z));
      },
      {.epochs = 1});
  BOOST_REQUIRE(rows == 64u);
  BOOST_TEST(history.at(0).train_accuracy == static_cast<double>(correct) / 64.0);
  BOOST_TEST(history.at(0).train_accuracy > 0.5);
  BOOST_TEST(!std::isnan(history.at(0).train_loss));
}

// Logits [0, ln 3] on every row: a row of class 1 costs ln(4/3) and is right,
// one of class 0 costs ln 4 and is wrong. Ten rows in batches of 4: the last
// batch's two padding rows must not count.
BOOST_AUTO_TEST_CASE(evaluate_classifier_scores_the_valid_rows_of_one_pass) {
  tt::dataset<2> data;
  for (std::size_t i = 0; i < 10; ++i) {
    const float row[2] = {float(i), 0.f};
    data.push_back(std::span<const float, 2>(row), static_cast<std::int32_t>(i < 3 ? 1 : 0));
  }
  auto loader = tt::evaluation_batches<4>(data);
  std::size_t calls = 0;
  const auto meter = tt::evaluate_classifier(loader, [&](const tt::batch<4, 2>&) {
    ++calls;
    tl::tensor<float, 4, 2> z;
    for (std::size_t r = 0; r < 4; ++r) z(r, 0) = 0.f, z(r, 1) = std::log(3.f);
    return z;
  });
  BOOST_TEST(calls == 3u);
  BOOST_TEST(meter.count() == 10u);
  BOOST_TEST(meter.accuracy() == 0.3);
  const double expected = (3 * std::log(4.0 / 3.0) + 7 * std::log(4.0)) / 10;
  BOOST_TEST(std::abs(meter.loss() - expected) < 1e-6);
}
