// Parameter groups and frozen parameters, against torch.optim's param_groups
// and requires_grad = False (tests/reference/training_controls.py).
#define BOOST_TEST_MODULE optim_groups
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tl = tapeless;

namespace {

#include "reference/training_controls.inc"

constexpr std::size_t element_count = 32;
using flat_values = std::array<float, element_count>;

using two_layers = tl::parameter_store<tl::inline_storage, tl::parameter_entry<"fc1.weight", float, tl::shape<3, 7>>,
                                       tl::parameter_entry<"fc1.bias", float, tl::shape<3>>,
                                       tl::parameter_entry<"fc2.weight", float, tl::shape<2, 3>>,
                                       tl::parameter_entry<"fc2.bias", float, tl::shape<2>>>;

void load(two_layers& params, const flat_values& flat, bool into_grads) {
  std::size_t i = 0;
  params.visit([&](std::string_view, auto& value, auto& grad) {
    for (auto& x : into_grads ? grad : value) x = flat[i++];
  });
}

flat_values values_of(const two_layers& params) {
  flat_values out{};
  std::size_t i = 0;
  params.visit([&](std::string_view, const auto& value, const auto&) {
    for (auto x : value) out[i++] = x;
  });
  return out;
}

// As tests/optim/updates.cpp, a few float ulps, with a floor: a value that
// passes near zero as terms of order 1 cancel (momentum after a few steps)
// keeps their absolute rounding error, about 1e-8.
bool close(double ours, double torch) { return std::abs(ours - torch) <= 1e-6 * std::max(std::abs(torch), 0.1); }

template <class Optimizer, class BeforeStep>
void check_steps(Optimizer& opt, const std::array<flat_values, 5>& expected, const char* label, BeforeStep before) {
  two_layers params;
  load(params, group_initial, false);
  for (std::size_t step = 0; step < expected.size(); ++step) {
    load(params, group_gradients[step], true);
    before(step);
    opt.step(params);
    const auto got = values_of(params);
    for (std::size_t i = 0; i < element_count; ++i)
      BOOST_TEST(close(got[i], expected[step][i]),
                 label << " step " << step + 1 << " element " << i << ": " << std::setprecision(9) << got[i] << " vs torch "
                       << expected[step][i]);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(frozen_layer_under_adamw_with_weight_decay_matches_torch_requires_grad_false) {
  two_layers shape_only;
  auto opt = tl::optim::optimizer(shape_only, tl::optim::adamw{.lr = 0.01f, .weight_decay = 0.1f});
  opt.freeze<"fc1">();  // a layer's name: fc1.weight and fc1.bias
  BOOST_TEST(opt.is_frozen<"fc1.weight">());
  BOOST_TEST(opt.is_frozen<"fc1.bias">());
  BOOST_TEST(!opt.is_frozen<"fc2">());
  check_steps(opt, adamw_fc1_frozen_two_steps_after, "adamw, fc1 frozen in steps 1 and 2", [&](std::size_t step) {
    if (step == 2) opt.unfreeze<"fc1">();
  });
  // Each parameter counts its own steps, as torch does: fc1's bias
  // corrections started at 1 when it was unfrozen.
  BOOST_TEST(opt.steps() == 5u);
  BOOST_TEST(opt.steps_of<"fc1.weight">() == 3u);
  BOOST_TEST(opt.steps_of<"fc2.bias">() == 5u);
}

BOOST_AUTO_TEST_CASE(a_frozen_parameter_keeps_its_bits_and_its_state_is_never_touched) {
  two_layers params;
  load(params, group_initial, false);
  auto opt = tl::optim::optimizer(params, tl::optim::adamw{.lr = 0.1f, .weight_decay = 0.5f});
  opt.freeze<"fc2.weight">();
  const auto before = params.get<"fc2.weight">();
  for (std::size_t step = 0; step < 5; ++step) {
    load(params, group_gradients[step], true);
    opt.step(params);
  }
  BOOST_TEST(std::memcmp(before.data(), params.get<"fc2.weight">().data(), before.size() * sizeof(float)) == 0);
  for (const auto& moment : opt.state<"fc2.weight">())
    BOOST_TEST(std::all_of(moment.begin(), moment.end(), [](float m) { return m == 0.f; }));
  BOOST_TEST(opt.steps_of<"fc2.weight">() == 0u);
  BOOST_TEST(params.get<"fc2.bias">()(0) != group_initial[30]);  // the others moved
}

BOOST_AUTO_TEST_CASE(two_sgd_groups_with_their_own_lr_and_weight_decay_match_torch_param_groups) {
  two_layers shape_only;
  // The rule made with is fc1's group; fc2 gets its own.
  auto opt = tl::optim::optimizer(shape_only, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f});
  opt.set_group<"fc2.weight", "fc2.bias">(tl::optim::sgd{.lr = 0.02f, .momentum = 0.9f});
  BOOST_TEST(opt.lr_of<"fc1.bias">() == 0.1f);
  BOOST_TEST(opt.lr_of<"fc2.weight">() == 0.02f);
  check_steps(opt, sgd_two_groups_after, "sgd, two groups", [](std::size_t) {});
}

BOOST_AUTO_TEST_CASE(a_schedule_sets_each_group_from_its_own_base_lr_as_torch_schedulers_do) {
  two_layers shape_only;
  auto opt = tl::optim::optimizer(shape_only, tl::optim::adam{.lr = 0.05f, .weight_decay = 0.1f});
  opt.set_group<"fc2">(tl::optim::adam{.lr = 0.01f, .weight_decay = 0.1f});
  const tl::optim::cosine_annealing schedule{.t_max = 4, .eta_min = 0.001f};
  // One step per epoch; torch calls scheduler.step() after each.
  check_steps(opt, adam_two_groups_cosine_after, "adam, two groups, cosine", [&](std::size_t epoch) {
    tl::optim::apply_schedule(opt, schedule, epoch);
    BOOST_TEST(close(opt.lr_of<"fc1.weight">(), adam_two_groups_cosine_lr[epoch][0]));
    BOOST_TEST(close(opt.lr_of<"fc2.bias">(), adam_two_groups_cosine_lr[epoch][1]));
  });
  BOOST_TEST(opt.lr() == opt.lr_of<"fc1.bias">());
  opt.reset();  // every group back to its base lr; the groups stay
  BOOST_TEST(opt.lr_of<"fc1.weight">() == 0.05f);
  BOOST_TEST(opt.lr_of<"fc2.weight">() == 0.01f);
  BOOST_TEST(opt.steps_of<"fc2.weight">() == 0u);
}

BOOST_AUTO_TEST_CASE(set_lr_leaves_a_group_of_its_own_alone) {
  two_layers shape_only;
  auto opt = tl::optim::optimizer(shape_only, tl::optim::sgd{.lr = 0.1f});
  opt.set_group<"fc1.bias">(tl::optim::sgd{.lr = 0.3f});
  opt.set_lr(0.05f);
  BOOST_TEST(opt.lr_of<"fc1.weight">() == 0.05f);
  BOOST_TEST(opt.lr_of<"fc1.bias">() == 0.3f);
}

BOOST_AUTO_TEST_CASE(a_group_with_refused_hyperparameters_changes_nothing) {
  two_layers shape_only;
  auto opt = tl::optim::optimizer(shape_only, tl::optim::adam{.lr = 0.05f});
  BOOST_CHECK_THROW(opt.set_group<"fc2">(tl::optim::adam{.beta1 = 1.5f}), std::invalid_argument);
  BOOST_TEST(opt.lr_of<"fc2.weight">() == 0.05f);
  BOOST_TEST(opt.entry_rule(2).beta1 == 0.9f);
  // A schedule that would give one group a bad lr changes no group.
  opt.set_group<"fc2">(tl::optim::adam{.lr = 0.f});
  const auto bad = [](float base, std::size_t) { return base > 0 ? base : -1.f; };
  BOOST_CHECK_THROW(tl::optim::apply_schedule(opt, bad, 1), std::invalid_argument);
  BOOST_TEST(opt.lr() == 0.05f);
  BOOST_TEST(opt.lr_of<"fc2.bias">() == 0.f);
}
