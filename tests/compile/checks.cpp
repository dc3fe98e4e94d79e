// Bad data reaching a compiled step: class ids outside [0, classes) and
// values of dynamic size that do not fit their input are found before any
// kernel runs; the step returns NaN, changes nothing, and says why.
#define BOOST_TEST_MODULE compile_checks
#include "support.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tl = tapeless;

namespace {

constexpr auto X = tl::input<"X", float, 4, 3>;
constexpr auto Y = tl::input<"Y", std::int32_t, 4>;
constexpr auto logits = tl::nn::linear<"fc", 10>(X);
constexpr auto loss = tl::cross_entropy(logits, Y);

template <class Store>
void fill_weights(Store& params) {
  tl::random_stream rng{3};
  params.visit([&](std::string_view, auto& v, auto& g) {
    for (auto& e : v) e = 0.1f * rng.normal();
    g.fill(0.25f);  // a marker: a rejected step must leave it
  });
}

tl::tensor<float, 4, 3> features() {
  tl::tensor<float, 4, 3> x;
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * float(i) - 0.5f;
  return x;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_class_id_out_of_range_stops_the_step_and_names_row_value_and_range) {
  const auto x = features();
  for (const std::int32_t bad : {12, -1, std::numeric_limits<std::int32_t>::max(), 10}) {
    auto program = tl::compile(loss);
    auto params = tl::parameters_of(loss);
    fill_weights(params);
    const auto before = params;
    tl::tensor<std::int32_t, 4> y;
    y[0] = 1, y[1] = 9, y[2] = bad, y[3] = 0;
    const float l = program.step(params, X = x, Y = y);
    BOOST_TEST(std::isnan(l), "label " << bad);
    const tl::run_error& e = program.last_error();
    BOOST_TEST(bool(e));
    BOOST_TEST((e.what == tl::run_error::kind::label_range));
    BOOST_TEST(e.row == 2u);
    BOOST_TEST(e.value == bad);
    BOOST_TEST(e.limit == 10u);
    BOOST_TEST(tl::to_string(e) == "input \"Y\": class id " + std::to_string(bad) + " in row 2 is outside [0, 10)");
    BOOST_TEST(program.steps_taken == 0u);
    params.visit([&](std::string_view name, auto& v, auto& g) {
      before.visit([&](std::string_view other, auto& v0, auto& g0) {
        if (name != other) return;
        for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST(v[i] == v0[i]);
        for (std::size_t i = 0; i < g.size(); ++i) BOOST_TEST(g[i] == g0[i]);
      });
    });
    // The forward pass checks the same labels.
    BOOST_TEST(std::isnan(program(params, X = x, Y = y)));
    // Good labels run again, and the error is gone.
    y[2] = 5;
    BOOST_TEST(std::isfinite(program.step(params, X = x, Y = y)));
    BOOST_TEST(!program.last_error());
  }
}

BOOST_AUTO_TEST_CASE(a_rejected_step_leaves_the_optimizer_untouched) {
  const auto x = features();
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  auto params = tl::parameters_of(loss);
  fill_weights(params);
  tl::tensor<std::int32_t, 4> y;
  y[0] = 1, y[1] = 2, y[2] = 3, y[3] = 4;
  BOOST_TEST(std::isfinite(trainer.step(params, X = x, Y = y)));
  const auto after_one = params;
  const auto momentum = trainer.optimizer();
  y[3] = 11;
  BOOST_TEST(std::isnan(trainer.step(params, X = x, Y = y)));
  BOOST_TEST(trainer.program().last_error().row == 3u);
  BOOST_TEST(trainer.optimizer().steps() == momentum.steps());
  params.visit([&](std::string_view name, auto& v, auto&) {
    after_one.visit([&](std::string_view other, auto& v0, auto&) {
      if (name == other)
        for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST(v[i] == v0[i]);
    });
  });
  // Same step count and momentum buffers: the next good step equals one on the saved optimizer.
  auto copy = trainer;
  copy.optimizer() = momentum;
  auto params_copy = params;
  y[3] = 4;
  const float a = trainer.step(params, X = x, Y = y);
  const float b = copy.step(params_copy, X = x, Y = y);
  BOOST_TEST(a == b);
  params.visit([&](std::string_view name, auto& v, auto&) {
    params_copy.visit([&](std::string_view other, auto& v0, auto&) {
      if (name == other)
        for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST(v[i] == v0[i]);
    });
  });
}

BOOST_AUTO_TEST_CASE(a_span_of_the_wrong_size_is_refused_with_the_inputs_name) {
  constexpr auto V = tl::input<"V", float, 12>;
  constexpr auto w = tl::param<"w", float, 12>;
  constexpr auto f = tl::sum(V * w);
  auto program = tl::compile(f);
  auto params = tl::parameters_of(f);
  params.get<"w">().fill(1.f);
  params.grad<"w">().fill(7.f);
  const std::vector<float> six(6, 1.f), twelve(12, 1.f);
  const float l = program.step(params, V = std::span<const float>(six));
  BOOST_TEST(std::isnan(l));
  BOOST_TEST((program.last_error().what == tl::run_error::kind::binding_size));
  BOOST_TEST(tl::to_string(program.last_error()) ==
             "input \"V\": the value bound has 6 elements, the input has 12 (a std::span of the input's size is needed)");
  for (float g : params.grad<"w">()) BOOST_TEST(g == 7.f);
  BOOST_TEST(program.step(params, V = std::span<const float>(twelve)) == 12.f);
  for (float g : params.grad<"w">()) BOOST_TEST(g == 1.f);

  // A forward program's tensor result is NaN throughout.
  auto predict = tl::compile(V * w);
  const auto& out = predict(params, V = std::span<const float>(six));
  for (float e : out) BOOST_TEST(std::isnan(e));
  BOOST_TEST(bool(predict.last_error()));
}
