// The training controls on compiled programs, against torch
// (tests/reference/training_controls.py): gradient accumulation, per-row
// loss weights and a padded batch's mask, a frozen layer in a trainer whose
// updates are fused into the backward pass; and none of them allocates.
#define BOOST_TEST_MODULE nn_training_controls
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>
#include <tapeless/train.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <string>
#include <string_view>

namespace tl = tapeless;

// Every allocation in this test program is counted.
#include "counting_allocator.hpp"

namespace {

#include "reference/training_controls.inc"

constexpr std::size_t rows = 4;      // a micro-batch
constexpr std::size_t micro = 4;     // micro-batches an update
constexpr std::size_t features = 3;
constexpr auto X = tl::input<"X", float, rows, features>;
constexpr auto Y = tl::input<"Y", std::int32_t, rows>;
constexpr auto M = tl::input<"M", float, rows>;
template <class In>
constexpr auto mlp(const In& x) {
  return tl::nn::linear<"fc2", 3>(tl::tanh(tl::nn::linear<"fc1", 5>(x)));
}
constexpr auto loss = tl::cross_entropy(mlp(X), Y);
constexpr auto weighted_loss_expression = tl::cross_entropy(mlp(X), Y, M);
using store = decltype(tl::parameters_of(loss));
constexpr std::size_t element_count = 38;
using flat_values = std::array<float, element_count>;

// The reference's order: fc1.weight, fc1.bias, fc2.weight, fc2.bias.
constexpr std::array<std::string_view, 4> torch_order{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"};
constexpr std::array<std::size_t, 4> torch_offset{0, 15, 20, 35};

std::size_t offset_of(std::string_view name) {
  return torch_offset[static_cast<std::size_t>(std::find(torch_order.begin(), torch_order.end(), name) -
                                               torch_order.begin())];
}

template <class Store>
void load_values(Store& params, const flat_values& flat) {
  params.visit([&](std::string_view name, auto& value, auto&) {
    std::copy_n(flat.begin() + static_cast<std::ptrdiff_t>(offset_of(name)), value.size(), value.begin());
  });
}
template <class Store>
flat_values flat_of(const Store& params, bool grads) {
  flat_values out{};
  params.visit([&](std::string_view name, const auto& value, const auto& grad) {
    const auto& t = grads ? grad : value;
    std::copy(t.begin(), t.end(), out.begin() + static_cast<std::ptrdiff_t>(offset_of(name)));
  });
  return out;
}

// Rows [first, first + N) of the reference data.
template <std::size_t N>
tl::tensor<float, N, features> features_at(std::size_t first) {
  tl::tensor<float, N, features> x;
  std::copy_n(mlp_features.begin() + static_cast<std::ptrdiff_t>(first * features), N * features, x.begin());
  return x;
}
template <std::size_t N>
tl::tensor<std::int32_t, N> labels_at(std::size_t first) {
  tl::tensor<std::int32_t, N> y;
  std::copy_n(mlp_labels.begin() + static_cast<std::ptrdiff_t>(first), N, y.begin());
  return y;
}

// torch sums its float roundings in another order: a few ulps apart.
bool close(double ours, double torch, double relative = 1e-5) {
  return std::abs(ours - torch) <= relative * std::max(std::abs(torch), 0.1);
}

void check_close(const flat_values& got, const flat_values& expected, const std::string& what) {
  for (std::size_t i = 0; i < element_count; ++i)
    BOOST_TEST(close(got[i], expected[i]),
               what << " element " << i << ": " << std::setprecision(9) << got[i] << " vs " << expected[i]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(accumulating_four_micro_batches_matches_torch_accumulating_loss_over_four) {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  load_values(params, mlp_initial);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  auto accumulate = tl::optim::gradient_accumulator(params, micro);
  std::size_t updates = 0;
  for (std::size_t m = 0; m < 2 * micro; ++m) {
    program.step(params, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    const bool update = accumulate.add(params);
    BOOST_TEST(update == (m % micro == micro - 1));
    if (!update) continue;
    opt.step(params);
    check_close(flat_of(params, false), accumulated_sgd_after[updates], "update " + std::to_string(updates + 1));
    ++updates;
  }
  BOOST_TEST(updates == 2u);
  BOOST_TEST(opt.steps() == 2u);
}

BOOST_AUTO_TEST_CASE(accumulated_gradients_equal_one_step_on_the_concatenated_batch) {
  constexpr auto X16 = tl::input<"X", float, rows * micro, features>;
  constexpr auto Y16 = tl::input<"Y", std::int32_t, rows * micro>;
  auto whole = tl::compile(tl::cross_entropy(mlp(X16), Y16));
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  load_values(params, mlp_initial);
  auto accumulate = tl::optim::gradient_accumulator(params, micro);
  double mean_of_losses = 0;
  for (std::size_t m = 0; m < micro; ++m) {
    mean_of_losses += program.step(params, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows)) / micro;
    accumulate.add(params);
  }
  const auto accumulated = flat_of(params, true);
  auto params_whole = tl::parameters_of(loss);
  load_values(params_whole, mlp_initial);
  const float whole_loss = whole.step(params_whole, X16 = features_at<rows * micro>(0), Y16 = labels_at<rows * micro>(0));
  BOOST_TEST(close(mean_of_losses, whole_loss, 1e-6));
  check_close(accumulated, flat_of(params_whole, true), "gradient");
}

BOOST_AUTO_TEST_CASE(weighted_micro_batches_and_flush_give_the_weighted_mean) {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  load_values(params, mlp_initial);
  auto accumulate = tl::optim::gradient_accumulator(params, 3);
  flat_values expected{};
  const float weights[2] = {4, 1};  // the second a padded micro-batch of 1 valid row, say
  for (std::size_t m = 0; m < 2; ++m) {
    program.step(params, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    const auto g = flat_of(params, true);
    for (std::size_t i = 0; i < element_count; ++i) expected[i] += weights[m] * g[i] / 5;
    BOOST_TEST(!accumulate.add(params, weights[m]));
  }
  BOOST_TEST(accumulate.pending() == 2u);
  BOOST_TEST(accumulate.flush(params));
  BOOST_TEST(!accumulate.flush(params));  // nothing left
  check_close(flat_of(params, true), expected, "flushed gradient");
  BOOST_CHECK_THROW(tl::optim::gradient_accumulator(params, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(row_weighted_cross_entropy_matches_torch_weighted_mean) {
  auto program = tl::compile(weighted_loss_expression);
  auto params = tl::parameters_of(weighted_loss_expression);
  load_values(params, mlp_initial);
  tl::tensor<float, rows> w;
  std::copy(row_weights.begin(), row_weights.end(), w.begin());
  const float l = program.step(params, X = features_at<rows>(0), Y = labels_at<rows>(0), M = w);
  BOOST_TEST(close(l, weighted_loss, 1e-6), l << " vs torch " << weighted_loss);
  check_close(flat_of(params, true), weighted_loss_gradients, "gradient");
}

BOOST_AUTO_TEST_CASE(a_padded_batch_with_its_mask_gives_the_smaller_batch_loss_and_gradients) {
  // Three valid rows padded to four, the pad a copy of row 0 (as
  // last_batch::pad makes it), against a program for three rows.
  tl::train::batch<rows, features> b;
  b.features = features_at<rows>(0);
  b.targets = labels_at<rows>(0);
  for (std::size_t c = 0; c < features; ++c) b.features(3, c) = b.features(0, c);
  b.targets(3) = b.targets(0);
  b.valid = 3;
  const auto mask = tl::train::valid_row_mask(b);
  BOOST_TEST(mask(3) == 0.f);
  BOOST_TEST(mask(2) == 1.f);

  auto masked = tl::compile(weighted_loss_expression);
  auto params = tl::parameters_of(weighted_loss_expression);
  load_values(params, mlp_initial);
  const float l = masked.step(params, X = b.features, Y = b.targets, M = mask);

  constexpr auto X3 = tl::input<"X", float, 3, features>;
  constexpr auto Y3 = tl::input<"Y", std::int32_t, 3>;
  auto smaller = tl::compile(tl::cross_entropy(mlp(X3), Y3));
  auto params3 = tl::parameters_of(loss);
  load_values(params3, mlp_initial);
  const float l3 = smaller.step(params3, X3 = features_at<3>(0), Y3 = labels_at<3>(0));
  BOOST_TEST(close(l, l3, 1e-6), l << " vs " << l3);
  check_close(flat_of(params, true), flat_of(params3, true), "gradient");
  // Unmasked, the pad counts: the loss differs.
  auto unmasked = tl::compile(loss);
  BOOST_TEST(std::abs(unmasked.step(params3, X = b.features, Y = b.targets) - l3) > 1e-4f);
}

BOOST_AUTO_TEST_CASE(a_frozen_layer_stays_bit_identical_in_a_trainer_with_fused_updates) {
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f});
  static_assert(decltype(trainer)::updates_in_gemm<0>);  // fc1.weight is updated inside its GEMM
  auto program = tl::compile(loss);
  auto opt = tl::optim::optimizer(tl::parameters_of(loss), tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f});
  trainer.optimizer().freeze<"fc1">();
  trainer.optimizer().set_group<"fc2.bias">(tl::optim::sgd{.lr = 0.3f, .momentum = 0.5f});
  opt.freeze<"fc1">();
  opt.set_group<"fc2.bias">(tl::optim::sgd{.lr = 0.3f, .momentum = 0.5f});
  auto a = tl::parameters_of(loss);
  load_values(a, mlp_initial);
  auto b = a;
  const auto fc1_weight = a.get<"fc1.weight">();
  const auto fc1_bias = a.get<"fc1.bias">();
  for (std::size_t m = 0; m < 5; ++m) {
    trainer.step(a, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    program.step(b, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    opt.step(b);
  }
  BOOST_TEST(std::memcmp(fc1_weight.data(), a.get<"fc1.weight">().data(), fc1_weight.size() * sizeof(float)) == 0);
  BOOST_TEST(std::memcmp(fc1_bias.data(), a.get<"fc1.bias">().data(), fc1_bias.size() * sizeof(float)) == 0);
  const auto& momentum = trainer.optimizer().state<"fc1.weight">()[0];
  BOOST_TEST(std::all_of(momentum.begin(), momentum.end(), [](float v) { return v == 0.f; }));
  // The other layer trains as program + optimizer would (FMA contraction aside).
  check_close(flat_of(a, false), flat_of(b, false), "trainer vs program + optimizer");
  BOOST_TEST(a.get<"fc2.weight">()(0, 0) != mlp_initial[20]);
}

// Plain SGD on a small model: the trainer runs a step whose fused updates
// test no flag, but only while every one of them is plain and not frozen;
// a frozen layer sends it back to the general step.
BOOST_AUTO_TEST_CASE(a_small_plain_sgd_trainer_leaves_a_frozen_layer_and_keeps_a_group_lr) {
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f});
  using trainer_type = decltype(trainer);
  static_assert(trainer_type::updates_in_gemm<0> && trainer_type::updates_in_gemm<1> &&
                trainer_type::updates_in_gemm<2> && trainer_type::updates_in_gemm<3>);
  auto program = tl::compile(loss);
  auto opt = tl::optim::optimizer(tl::parameters_of(loss), tl::optim::sgd{.lr = 0.1f});
  trainer.optimizer().set_group<"fc2.bias">(tl::optim::sgd{.lr = 0.3f});
  opt.set_group<"fc2.bias">(tl::optim::sgd{.lr = 0.3f});
  auto a = tl::parameters_of(loss);
  load_values(a, mlp_initial);
  auto b = a;
  const auto step_both = [&](std::size_t m) {
    trainer.step(a, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    program.step(b, X = features_at<rows>(m * rows), Y = labels_at<rows>(m * rows));
    opt.step(b);
  };
  step_both(0);  // every update plain
  check_close(flat_of(a, false), flat_of(b, false), "plain steps");
  BOOST_TEST(a.get<"fc1.weight">()(0, 0) != mlp_initial[0]);
  trainer.optimizer().freeze<"fc1">();
  opt.freeze<"fc1">();
  const auto fc1_weight = a.get<"fc1.weight">();
  const auto fc1_bias = a.get<"fc1.bias">();
  for (std::size_t m = 1; m < 4; ++m) step_both(m);
  BOOST_TEST(std::memcmp(fc1_weight.data(), a.get<"fc1.weight">().data(), fc1_weight.size() * sizeof(float)) == 0);
  BOOST_TEST(std::memcmp(fc1_bias.data(), a.get<"fc1.bias">().data(), fc1_bias.size() * sizeof(float)) == 0);
  trainer.optimizer().unfreeze<"fc1">();
  opt.unfreeze<"fc1">();
  for (std::size_t m = 4; m < 7; ++m) step_both(m);  // plain again
  check_close(flat_of(a, false), flat_of(b, false), "trainer vs program + optimizer");
  BOOST_TEST(std::memcmp(fc1_weight.data(), a.get<"fc1.weight">().data(), fc1_weight.size() * sizeof(float)) != 0);

  // The optimizer keeps what the trainer asks each step (all_plain) up to
  // date: fc1 given momentum by set_group after plain steps must take it
  // (a flag kept from before would run plain SGD on fc1)...
  trainer.optimizer().set_group<"fc1">(tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  opt.set_group<"fc1">(tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  for (std::size_t m = 7; m < 10; ++m) step_both(m % 8);
  check_close(flat_of(a, false), flat_of(b, false), "after set_group gave fc1 momentum");
  // ... and so must a parameter frozen by position, as loading a checkpoint does.
  trainer.optimizer().set_group<"fc1">(tl::optim::sgd{.lr = 0.1f});
  opt.set_group<"fc1">(tl::optim::sgd{.lr = 0.1f});
  trainer.optimizer().set_entry_frozen(0, true);
  opt.set_entry_frozen(0, true);
  const auto entry_0 = a.value_at<0>();
  for (std::size_t m = 10; m < 13; ++m) step_both(m % 8);
  BOOST_TEST(std::memcmp(entry_0.data(), a.value_at<0>().data(), entry_0.size() * sizeof(float)) == 0);
  check_close(flat_of(a, false), flat_of(b, false), "after set_entry_frozen(0)");
  // Each parameter counts the steps it was not frozen in.
  for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(trainer.optimizer().entry_steps(i) == opt.entry_steps(i));
  BOOST_TEST(trainer.optimizer().steps_of<"fc1.weight">() == 7u);
  BOOST_TEST(trainer.optimizer().steps_of<"fc2.weight">() == 13u);
}

BOOST_AUTO_TEST_CASE(accumulation_masked_steps_groups_and_frozen_parameters_allocate_nothing) {
  auto masked = tl::compile(weighted_loss_expression);
  auto params = tl::parameters_of(weighted_loss_expression);
  load_values(params, mlp_initial);
  auto opt = tl::optim::optimizer(params, tl::optim::adamw{.lr = 0.01f});
  auto accumulate = tl::optim::gradient_accumulator(params, 3);
  opt.set_group<"fc2">(tl::optim::adamw{.lr = 0.02f, .weight_decay = 0});
  opt.freeze<"fc1.bias">();
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  trainer.optimizer().freeze<"fc2">();
  auto trainer_params = tl::parameters_of(loss);
  load_values(trainer_params, mlp_initial);
  tl::train::batch<rows, features> b;
  b.features = features_at<rows>(0);
  b.targets = labels_at<rows>(0);
  b.valid = 2;
  const tl::optim::cosine_annealing schedule{.t_max = 5};
  const std::size_t before = allocations.load();
  std::size_t updates = 0;
  for (std::size_t m = 0; m < 7; ++m) {
    tl::optim::apply_schedule(opt, schedule, m);
    masked.step(params, X = b.features, Y = b.targets, M = tl::train::valid_row_mask(b));
    if (accumulate.add(params, static_cast<float>(b.valid))) opt.step(params), ++updates;
    trainer.step(trainer_params, X = b.features, Y = b.targets);
  }
  if (accumulate.flush(params)) opt.step(params), ++updates;
  BOOST_TEST(allocations.load() == before);
  BOOST_TEST(updates == 3u);
  BOOST_TEST(opt.steps_of<"fc1.bias">() == 0u);
}

BOOST_AUTO_TEST_CASE(a_step_keeps_the_logits_it_computed_once) {
  constexpr auto logits = mlp(X);
  auto plain = tl::compile(loss);
  auto with_logits = tl::compile(loss, tl::step_output(logits));
  // The logits are computed once, by the loss's own kernels: one copy out more.
  static_assert(decltype(with_logits)::training_kernels == decltype(plain)::training_kernels + 1);
  static_assert(decltype(with_logits)::has_step_output && !decltype(plain)::has_step_output);
  auto predict = tl::compile(logits);
  auto params = tl::parameters_of(loss);
  load_values(params, mlp_initial);
  auto reference = params;
  const auto x = features_at<rows>(0);
  const auto y = labels_at<rows>(0);
  const float l = with_logits.step(params, X = x, Y = y);
  const float l_plain = plain.step(reference, X = x, Y = y);
  BOOST_TEST(l == l_plain);
  BOOST_TEST((flat_of(params, true) == flat_of(reference, true)));  // the same gradients, bit for bit
  const auto& z = with_logits.step_output();
  const auto& expected = predict(params, X = x);
  for (std::size_t i = 0; i < z.size(); ++i)
    BOOST_TEST(std::abs(z[i] - expected[i]) <= 1e-6f * std::max(1.f, std::abs(expected[i])), i << ": " << z[i] << " vs " << expected[i]);
  // A step whose data fails its checks leaves NaN there, as in its loss.
  auto bad = y;
  bad(1) = 7;
  BOOST_TEST(std::isnan(with_logits.step(params, X = x, Y = bad)));
  BOOST_TEST(std::isnan(with_logits.step_output()(0, 0)));
}

BOOST_AUTO_TEST_CASE(a_trainer_with_step_output_counts_training_accuracy_in_fit_and_allocates_nothing_stepping) {
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f}, tl::step_output(mlp(X)));
  auto params = tl::parameters_of(loss);
  load_values(params, mlp_initial);
  tl::train::dataset<features> data;
  for (std::size_t r = 0; r < mlp_labels.size(); ++r)
    data.push_back(std::span<const float, features>(mlp_features.data() + r * features, features), mlp_labels[r]);
  auto batches = tl::train::training_batches<rows>(data, 3);
  tl::train::accuracy_meter by_hand;
  auto predict = tl::compile(mlp(X));
  std::size_t allocated = 0;
  const auto history = tl::train::fit(
      batches,
      [&](const auto& b) {
        by_hand.add(predict(params, X = b.features), b);  // the weights the step starts from
        const std::size_t before = allocations.load();
        const float l = trainer.step(params, X = b.features, Y = b.targets);
        allocated += allocations.load() - before;
        return tl::train::classifier_step(l, trainer.step_output());
      },
      {.epochs = 1});
  BOOST_TEST(allocated == 0u);
  BOOST_TEST(history.at(0).train_accuracy == by_hand.accuracy());
}
