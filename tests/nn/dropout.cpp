// Dropout: masks drawn while training, identity when evaluating, the same
// mask in the forward and backward pass, a new one each step, reproducible.
#define BOOST_TEST_MODULE nn_dropout
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <type_traits>

namespace tl = tapeless;

namespace {
constexpr auto X = tl::input<"X", double, 64, 64>;
constexpr auto W = tl::param<"W", double, 64, 64>;
// Linear in W: the loss is exactly sum(dL/dW * W) whatever the mask.
constexpr auto loss = tl::sum(tl::nn::dropout<"drop", 0.25>(W * X));

struct fixture {
  decltype(tl::compile(loss)) program = tl::compile(loss);
  decltype(tl::parameters_of(loss)) params = tl::parameters_of(loss);
  tl::tensor<double, 64, 64> x;
  fixture() {
    tl::random_stream rng{1};
    for (auto& e : x) e = 1.0 + rng.uniform<double>();
    for (auto& e : params.get<"W">()) e = rng.uniform<double>();
  }
};
}  // namespace

BOOST_FIXTURE_TEST_CASE(training_drops_a_quarter_and_scales_the_rest, fixture) {
  const double l = program.step(params, X = x);
  std::size_t dropped = 0;
  double linear = 0;
  const auto& w = params.get<"W">();
  const auto& g = params.grad<"W">();
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] == 0)
      ++dropped;
    else
      BOOST_TEST(std::abs(g[i] - x[i] / 0.75) < 1e-12);  // kept: scaled by 1 / (1 - p)
    linear += g[i] * w[i];
  }
  // 4096 draws of p = 1/4: the count is within 5 standard deviations (28) of 1024.
  BOOST_TEST(std::abs(double(dropped) - 1024.0) < 140.0, dropped << " of 4096 dropped");
  // The backward pass used the forward pass's mask.
  BOOST_TEST(std::abs(l - linear) < 1e-9 * std::abs(l));
}

BOOST_FIXTURE_TEST_CASE(evaluation_is_the_identity, fixture) {
  double expected = 0;
  for (std::size_t i = 0; i < x.size(); ++i) expected += params.get<"W">()[i] * x[i];
  BOOST_TEST(std::abs(program(params, X = x) - expected) < 1e-9 * expected);
}

// A forward call never draws masks: its schedule leaves dropout out, so the
// layers before it are the same kernels as in a model without it.
BOOST_AUTO_TEST_CASE(a_forward_call_is_planned_without_dropout) {
  using with = decltype(tl::compile(loss));
  using without = decltype(tl::compile(tl::sum(W * X)));
  BOOST_TEST(with::forward_kernels == without::forward_kernels);
  BOOST_TEST((std::is_same_v<with::forward_schedule, without::forward_schedule>));
  // Without dropout, the step's kernels serve the forward call (compile/program.hpp);
  // with it, the step's would draw masks.
  BOOST_TEST(!with::forward_within_training);
  BOOST_TEST(without::forward_within_training);
}

BOOST_FIXTURE_TEST_CASE(each_step_draws_a_new_mask_and_a_seed_repeats_them, fixture) {
  program.seed(42);
  program.step(params, X = x);
  const auto first = params.grad<"W">();
  program.step(params, X = x);
  const auto second = params.grad<"W">();
  BOOST_TEST((first != second));
  program.seed(42);
  program.step(params, X = x);
  BOOST_TEST((params.grad<"W">() == first));
}
