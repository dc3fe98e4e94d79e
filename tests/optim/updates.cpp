#define BOOST_TEST_MODULE optim_updates
#include <boost/test/unit_test.hpp>

#include <tapeless/optim.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tl = tapeless;

namespace {

constexpr std::size_t element_count = 26;  // [3, 7] then [5]
constexpr std::size_t step_count = 3;
using flat_values = std::array<float, element_count>;

template <class Rule>
struct update_case {
  std::string_view label;
  Rule rule;
  std::array<flat_values, step_count> after;
};

#include "reference/optim_updates.inc"

template <class Storage, class T = float>
using two_parameters = tl::parameter_store<Storage, tl::parameter_entry<"a", T, tl::shape<3, 7>>,
                                           tl::parameter_entry<"b", T, tl::shape<5>>>;

// Copies flat values into the store's values (or grads), in store order.
template <class Store>
void load(Store& params, const flat_values& flat, bool into_grads) {
  std::size_t i = 0;
  params.visit([&](std::string_view, auto& value, auto& grad) {
    auto& target = into_grads ? grad : value;
    for (auto& x : target) x = static_cast<std::remove_reference_t<decltype(x)>>(flat[i++]);
  });
}

template <class Store>
std::array<double, element_count> values_of(const Store& params) {
  std::array<double, element_count> out{};
  std::size_t i = 0;
  params.visit([&](std::string_view, const auto& value, const auto&) {
    for (auto x : value) out[i++] = static_cast<double>(x);
  });
  return out;
}

// torch computes in float with its own order of roundings and, on some
// machines, fused multiply-adds: agreement is to a few float ulps, 1e-6
// relative, with an absolute floor for values that pass near zero.
bool close(double ours, double torch, double relative = 1e-6) {
  return std::abs(ours - torch) <= relative * std::max(std::abs(torch), 1e-2);
}

// Runs every case of one rule for three steps on a fresh store and optimizer.
template <class Storage, class T = float, class Rule, std::size_t N>
void check_against_torch(const update_case<Rule> (&cases)[N], double relative = 1e-6) {
  for (const auto& c : cases) {
    two_parameters<Storage, T> params;
    load(params, initial, false);
    auto opt = tl::optim::optimizer(params, c.rule);
    for (std::size_t step = 0; step < step_count; ++step) {
      load(params, gradients[step], true);
      opt.step(params);
      const auto got = values_of(params);
      for (std::size_t i = 0; i < element_count; ++i)
        BOOST_TEST(close(got[i], c.after[step][i], relative),
                   c.label << " step " << step + 1 << " element " << i << ": " << got[i] << " vs torch "
                           << c.after[step][i]);
    }
    BOOST_TEST(opt.steps() == step_count);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_matches_torch_for_three_steps) {
  check_against_torch<tl::inline_storage>(sgd_cases);
}

BOOST_AUTO_TEST_CASE(adagrad_matches_torch_for_three_steps) {
  check_against_torch<tl::inline_storage>(adagrad_cases);
}

BOOST_AUTO_TEST_CASE(rmsprop_matches_torch_for_three_steps) {
  check_against_torch<tl::inline_storage>(rmsprop_cases);
}

BOOST_AUTO_TEST_CASE(adam_matches_torch_for_three_steps) {
  check_against_torch<tl::inline_storage>(adam_cases);
}

BOOST_AUTO_TEST_CASE(adamw_matches_torch_for_three_steps) {
  check_against_torch<tl::inline_storage>(adamw_cases);
}

BOOST_AUTO_TEST_CASE(heap_stores_keep_heap_state_and_match_torch_too) {
  using heap_store = two_parameters<tl::heap_storage>;
  using opt_type = decltype(tl::optim::optimizer(std::declval<const heap_store&>(), tl::optim::adam{}));
  static_assert(std::is_same_v<opt_type::storage, tl::heap_storage>);
  // Smaller than its state (208 bytes for adam here): the state is not inside the object.
  static_assert(sizeof(opt_type) < opt_type::bytes, "heap state lives behind one pointer");
  check_against_torch<tl::heap_storage>(adam_cases);
  check_against_torch<tl::heap_storage>(rmsprop_cases);
}

BOOST_AUTO_TEST_CASE(inline_state_is_sized_for_the_store_entries) {
  using store = two_parameters<tl::inline_storage>;
  using adam_opt = decltype(tl::optim::optimizer(std::declval<const store&>(), tl::optim::adam{}));
  using sgd_opt = decltype(tl::optim::optimizer(std::declval<const store&>(), tl::optim::sgd{}));
  // Each tensor is padded to 64 bytes: [3, 7] floats take 128, [5] take 64.
  static_assert(adam_opt::bytes == 2 * (128 + 64));
  static_assert(sgd_opt::bytes == 1 * (128 + 64));
  static_assert(sizeof(adam_opt) >= adam_opt::bytes);
  BOOST_TEST(adam_opt::state_tensors == 2u);
}

BOOST_AUTO_TEST_CASE(double_parameters_follow_torch_float_to_its_precision) {
  check_against_torch<tl::inline_storage, double>(adam_cases, 1e-5);
  check_against_torch<tl::inline_storage, double>(sgd_cases, 1e-5);
}

BOOST_AUTO_TEST_CASE(reset_forgets_the_state_and_the_lr_and_starts_again_from_step_one) {
  for (const auto& c : rmsprop_cases) {
    two_parameters<tl::inline_storage> params;
    auto opt = tl::optim::optimizer(params, c.rule);
    load(params, initial, false);
    for (std::size_t step = 0; step < step_count; ++step) {
      load(params, gradients[step], true);
      opt.step(params);
    }
    opt.set_lr(123.f);
    opt.reset();
    BOOST_TEST(opt.steps() == 0u);
    BOOST_TEST(opt.lr() == c.rule.lr);
    load(params, initial, false);
    load(params, gradients[0], true);
    opt.step(params);
    const auto got = values_of(params);
    for (std::size_t i = 0; i < element_count; ++i) BOOST_TEST(close(got[i], c.after[0][i]), c.label << " " << i);
  }
}

BOOST_AUTO_TEST_CASE(adagrad_reset_restores_the_initial_accumulator_value) {
  two_parameters<tl::inline_storage> params;
  auto opt = tl::optim::optimizer(params, tl::optim::adagrad{.initial_accumulator_value = 0.25f});
  BOOST_TEST(opt.state<"a">()[0][0] == 0.25f);
  load(params, gradients[0], true);
  opt.step(params);
  BOOST_TEST(opt.state<"b">()[0][4] != 0.25f);
  opt.reset();
  for (float s : opt.state<"b">()[0]) BOOST_TEST(s == 0.25f);
}

BOOST_AUTO_TEST_CASE(sgd_momentum_buffer_starts_as_the_first_gradient_as_in_torch) {
  two_parameters<tl::inline_storage> params;
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .dampening = 0.5f});
  load(params, initial, false);
  load(params, gradients[0], true);
  opt.step(params);
  // Not (1 - dampening) * g: torch copies the first gradient into the buffer.
  for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(opt.state<"b">()[0][i] == gradients[0][21 + i]);
  load(params, gradients[1], true);
  opt.step(params);
  for (std::size_t i = 0; i < 5; ++i) {
    const float expected = gradients[0][21 + i] * 0.9f + 0.5f * gradients[1][21 + i];
    BOOST_TEST(opt.state_at<1>()[0][i] == expected, boost::test_tools::tolerance(1e-6f));
  }
}

BOOST_AUTO_TEST_CASE(set_lr_changes_the_next_step_and_base_lr_keeps_the_first) {
  two_parameters<tl::inline_storage> params;
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f});
  BOOST_TEST(opt.lr() == 0.1f);
  opt.set_lr(0.f);
  BOOST_TEST(opt.base_lr() == 0.1f);
  load(params, initial, false);
  load(params, gradients[0], true);
  opt.step(params);
  const auto got = values_of(params);
  for (std::size_t i = 0; i < element_count; ++i) BOOST_TEST(got[i] == double(initial[i]));
  opt.set_lr(0.1f);
  opt.step(params);
  for (std::size_t i = 0; i < element_count; ++i) BOOST_TEST(close(values_of(params)[i], sgd_cases[0].after[0][i]));
}

BOOST_AUTO_TEST_CASE(one_optimizer_steps_any_store_with_the_same_entries) {
  two_parameters<tl::heap_storage> heap_params;
  two_parameters<tl::inline_storage> inline_params;
  auto opt = tl::optim::optimizer(heap_params, tl::optim::sgd{.lr = 0.1f});
  load(inline_params, initial, false);
  load(inline_params, gradients[0], true);
  opt.step(inline_params);
  const auto got = values_of(inline_params);
  for (std::size_t i = 0; i < element_count; ++i) BOOST_TEST(close(got[i], sgd_cases[0].after[0][i]));
}

BOOST_AUTO_TEST_CASE(hyperparameters_torch_refuses_are_refused_by_the_constructor) {
  two_parameters<tl::inline_storage> params;
  const auto refuses = [&](auto rule, std::string_view words) {
    try {
      (void)tl::optim::optimizer(params, rule);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(words) != std::string::npos, e.what());
      return;
    }
    BOOST_ERROR("no exception for " << words);
  };
  refuses(tl::optim::sgd{.lr = -1.f}, "sgd: lr must be finite and >= 0");
  refuses(tl::optim::sgd{.lr = 0.1f, .nesterov = true}, "nesterov momentum requires momentum > 0");
  refuses(tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .nesterov = true},
          "and dampening = 0");
  refuses(tl::optim::adam{.beta1 = 1.f}, "adam: beta1 must be in [0, 1)");
  refuses(tl::optim::adamw{.beta2 = -0.1f}, "adamw: beta2 must be in [0, 1)");
  refuses(tl::optim::adagrad{.lr_decay = -1.f}, "adagrad: lr_decay must be finite and >= 0");
  refuses(tl::optim::rmsprop{.alpha = -0.5f}, "rmsprop: alpha must be finite and >= 0");
  refuses(tl::optim::rmsprop{.eps = -1e-8f}, "rmsprop: eps must be finite and >= 0");
}

BOOST_AUTO_TEST_CASE(non_finite_hyperparameters_are_refused_by_the_constructor) {
  two_parameters<tl::inline_storage> params;
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  const auto refuses = [&](auto rule, std::string_view words) {
    try {
      (void)tl::optim::optimizer(params, rule);
    } catch (const std::invalid_argument& e) {
      BOOST_TEST(std::string(e.what()).find(words) != std::string::npos, e.what());
      return;
    }
    BOOST_ERROR("no exception for " << words);
  };
  // sgd{.lr = inf} turned every weight to NaN at the first step, with no word.
  refuses(tl::optim::sgd{.lr = inf}, "tl::optim::sgd: lr must be finite and >= 0");
  refuses(tl::optim::sgd{.lr = nan}, "tl::optim::sgd: lr must be finite and >= 0");
  refuses(tl::optim::sgd{.lr = 0.1f, .momentum = inf}, "sgd: momentum must be finite");
  refuses(tl::optim::sgd{.lr = 0.1f, .dampening = -0.5f}, "sgd: dampening must be finite and >= 0");
  refuses(tl::optim::sgd{.lr = 0.1f, .weight_decay = nan}, "sgd: weight_decay must be finite");
  refuses(tl::optim::adam{.lr = inf}, "adam: lr must be finite");
  refuses(tl::optim::adam{.eps = inf}, "adam: eps must be finite");
  refuses(tl::optim::adam{.beta1 = nan}, "adam: beta1 must be in [0, 1)");
  refuses(tl::optim::adamw{.weight_decay = inf}, "adamw: weight_decay must be finite");
  refuses(tl::optim::adagrad{.lr = inf}, "adagrad: lr must be finite");
  refuses(tl::optim::adagrad{.initial_accumulator_value = inf}, "adagrad: initial_accumulator_value must be finite");
  refuses(tl::optim::rmsprop{.lr = nan}, "rmsprop: lr must be finite");
  refuses(tl::optim::rmsprop{.momentum = inf}, "rmsprop: momentum must be finite");
  // The fused trainer makes the same optimizer: tl::compile(loss, sgd{.lr = inf}) throws too.
  static_assert(tl::optim::sgd{.lr = inf}.invalid() != nullptr);
  static_assert(tl::optim::sgd{.lr = 0.1f}.invalid() == nullptr);
}
