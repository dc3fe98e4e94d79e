#define BOOST_TEST_MODULE optim_schedules
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace tl = tapeless;

namespace {

template <class Schedule>
struct schedule_case {
  Schedule schedule;
  float base_lr;
  std::array<double, 20> lr;
};
// clang 14 deduces no aggregate's template arguments (P1816 came in clang 17).
template <class Schedule>
schedule_case(Schedule, float, std::array<double, 20>) -> schedule_case<Schedule>;

#include "reference/optim_schedules.inc"

// torch steps its schedulers recursively in double, tapeless takes the closed
// form in double and rounds to float: they agree to float precision.
bool close(double ours, double torch) { return std::abs(ours - torch) <= 1e-6 * std::max(std::abs(torch), 1e-3); }

}  // namespace

BOOST_AUTO_TEST_CASE(schedules_match_torch_schedulers_over_twenty_epochs) {
  std::apply(
      [](const auto&... cases) {
        std::size_t index = 0;
        (
            [&](const auto& c) {
              for (std::size_t epoch = 0; epoch < c.lr.size(); ++epoch) {
                const double ours = c.schedule(c.base_lr, epoch);
                BOOST_TEST(close(ours, c.lr[epoch]),
                           "case " << index << " epoch " << epoch << ": " << ours << " vs torch " << c.lr[epoch]);
              }
              ++index;
            }(cases),
            ...);
      },
      schedule_cases);
}

BOOST_AUTO_TEST_CASE(every_schedule_gives_the_base_lr_at_epoch_zero) {
  const auto step = tl::optim::step_lr{.step_size = 2, .gamma = 0.5f};
  const auto exponential = tl::optim::exponential_lr{.gamma = 0.5f};
  const auto cosine = tl::optim::cosine_annealing{.t_max = 7, .eta_min = 0.01f};
  BOOST_TEST(step(0.3f, 0) == 0.3f);
  BOOST_TEST(exponential(0.3f, 0) == 0.3f);
  BOOST_TEST(cosine(0.3f, 0) == 0.3f);
  BOOST_TEST(tl::optim::fixed_lr{}(0.3f, 12) == 0.3f);
}

BOOST_AUTO_TEST_CASE(warmup_from_zero_rises_linearly_then_hands_over) {
  const auto warmup = tl::optim::linear_warmup<>{.warmup_steps = 4};
  BOOST_TEST(warmup(1.f, 0) == 0.f);
  BOOST_TEST(warmup(1.f, 1) == 0.25f);
  BOOST_TEST(warmup(1.f, 3) == 0.75f);
  BOOST_TEST(warmup(1.f, 4) == 1.f);
  BOOST_TEST(warmup(1.f, 100) == 1.f);
  // The next schedule starts at its own epoch 0.
  const auto then_decay = tl::optim::linear_warmup<tl::optim::exponential_lr>{.warmup_steps = 2, .then = tl::optim::exponential_lr{.gamma = 0.5f}};
  BOOST_TEST(then_decay(1.f, 2) == 1.f);
  BOOST_TEST(then_decay(1.f, 4) == 0.25f);
  // No warmup at all is the next schedule alone.
  const auto no_warmup = tl::optim::linear_warmup<tl::optim::exponential_lr>{.then = tl::optim::exponential_lr{.gamma = 0.5f}};
  BOOST_TEST(no_warmup(1.f, 1) == 0.5f);
}

BOOST_AUTO_TEST_CASE(zero_periods_act_as_one_instead_of_dividing_by_zero) {
  const auto step = tl::optim::step_lr{.step_size = 0, .gamma = 0.5f};
  const auto cosine = tl::optim::cosine_annealing{.t_max = 0};
  BOOST_TEST(step(1.f, 2) == 0.25f);
  BOOST_TEST(cosine(1.f, 1) == 0.f);
}

BOOST_AUTO_TEST_CASE(apply_schedule_sets_the_optimizer_lr_from_its_base_lr) {
  auto params = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"w", float, tl::shape<3>>>{};
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.2f});
  const auto schedule = tl::optim::step_lr{.step_size = 1, .gamma = 0.5f};
  BOOST_TEST(tl::optim::apply_schedule(opt, schedule, 1) == 0.1f);
  BOOST_TEST(opt.lr() == 0.1f);
  // From the base lr every time, not from the current one: epochs may come in any order.
  BOOST_TEST(tl::optim::apply_schedule(opt, schedule, 2) == 0.05f);
  BOOST_TEST(tl::optim::apply_schedule(opt, schedule, 0) == 0.2f);
  static_assert(tl::optim::lr_schedule<tl::optim::linear_warmup<tl::optim::cosine_annealing>>);
}

BOOST_AUTO_TEST_CASE(apply_schedule_refuses_non_finite_or_negative_numbers_and_leaves_the_lr) {
  auto params = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"w", float, tl::shape<3>>>{};
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.2f});
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  const auto refuses = [&](const auto& schedule, const std::string& words) {
    try {
      tl::optim::apply_schedule(opt, schedule, 3);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(words) != std::string::npos, e.what());
      BOOST_TEST(opt.lr() == 0.2f);
      return;
    }
    BOOST_ERROR("no exception for " << words);
  };
  refuses(tl::optim::step_lr{.step_size = 1, .gamma = inf}, "tl::optim::step_lr: gamma must be finite and >= 0");
  refuses(tl::optim::step_lr{.step_size = 1, .gamma = -0.5f}, "step_lr: gamma must be finite and >= 0");
  refuses(tl::optim::exponential_lr{.gamma = nan}, "exponential_lr: gamma must be finite and >= 0");
  refuses(tl::optim::cosine_annealing{.t_max = 5, .eta_min = inf}, "cosine_annealing: eta_min must be finite");
  // clang workaround: clang 14 deduces no template argument from designated
  // initializers (P1816, clang 17), so the next schedule's type is named.
  refuses(tl::optim::linear_warmup<>{.warmup_steps = 5, .start_factor = 2},
          "linear_warmup: start_factor must be in [0, 1]");
  refuses(tl::optim::linear_warmup<tl::optim::exponential_lr>{.warmup_steps = 1, .then = {.gamma = inf}},
          "exponential_lr: gamma must be finite");
  // A schedule without invalid() is still refused an lr that is not a number >= 0.
  refuses([](float, std::size_t) { return -1.f; }, "the schedule gives lr -1");
  // Large but finite numbers pass.
  BOOST_TEST(tl::optim::apply_schedule(opt, tl::optim::exponential_lr{.gamma = 2}, 3) == 1.6f);
}
