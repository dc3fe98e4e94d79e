// Where the plan says each parameter's gradient is whole in the store
// (schedule::gradients_written_at: the position of the kernel writing it),
// which tl::dist's overlapped reduction trusts to send a gradient away while
// later kernels run. Checked by watching a step kernel by kernel through an
// update that fuses nothing and has after_kernel, as that reduction's does:
// every gradient starts as NaN, must be whole (no NaN left) exactly after its
// kernel, not one kernel earlier or later, and must not change afterwards;
// the watched step gives the unwatched step's gradients bit for bit.
#define BOOST_TEST_MODULE compile_gradient_positions
#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace tl = tapeless;

namespace {

constexpr std::size_t npos = ~std::size_t{0};

// The gradient of the schedule's I-th parameter, as the store holds it.
template <class Schedule, std::size_t I, class Store>
const auto& gradient(const Store& params) {
  return params.template grad<Schedule::template parameter<I>::name>();
}

template <class Schedule, class Store>
struct gradient_watcher {
  template <std::size_t Param>
  static constexpr bool fuses = false;
  static constexpr bool plain_capable = false;

  const Store* params;
  std::vector<std::size_t> whole_after = std::vector<std::size_t>(Schedule::parameter_count, npos);
  std::vector<std::vector<float>> when_whole = std::vector<std::vector<float>>(Schedule::parameter_count);
  std::size_t kernels_seen = 0;

  void after_kernel(std::size_t position) {
    BOOST_TEST(position == kernels_seen);  // told once per kernel, in order
    ++kernels_seen;
    [&]<std::size_t... I>(std::index_sequence<I...>) { (look_at<I>(position), ...); }(
        std::make_index_sequence<Schedule::parameter_count>{});
  }
  template <std::size_t I>
  void look_at(std::size_t position) {
    const auto& g = gradient<Schedule, I>(*params);
    if (whole_after[I] != npos) return;
    for (std::size_t k = 0; k < g.size(); ++k)
      if (std::isnan(g.data()[k])) return;
    whole_after[I] = position;
    when_whole[I].assign(g.data(), g.data() + g.size());
  }
};

template <class Store>
void fill_gradients_with_nan(Store& params) {
  params.visit([](std::string_view, const auto&, auto& grad) {
    for (std::size_t k = 0; k < grad.size(); ++k) grad.data()[k] = std::numeric_limits<float>::quiet_NaN();
  });
}

// One step watched and one not, on the same data; the watcher's findings
// against the plan's table.
template <class Program, class Store, class... Bindings>
void check_positions(Program& program, Store& params, const Bindings&... bindings) {
  using schedule = typename Program::training_schedule;
  constexpr auto table = schedule::template gradients_written_at<>;
  program.step(params, bindings...);
  std::vector<std::vector<float>> unwatched;
  params.visit([&](std::string_view, const auto&, const auto& grad) {
    unwatched.emplace_back(grad.data(), grad.data() + grad.size());
  });

  fill_gradients_with_nan(params);
  gradient_watcher<schedule, Store> watcher{&params};
  program.step_with_update(watcher, params, bindings...);
  BOOST_TEST(watcher.kernels_seen == Program::training_kernels);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          const auto name = schedule::template parameter<I>::name.view();
          BOOST_TEST_INFO("gradient of " << name);
          BOOST_TEST(table[I] >= 0);
          BOOST_TEST(watcher.whole_after[I] == static_cast<std::size_t>(table[I]));
          const auto& g = gradient<schedule, I>(params);
          BOOST_TEST_INFO("gradient of " << name);
          BOOST_TEST(std::memcmp(watcher.when_whole[I].data(), g.data(), g.size() * sizeof(float)) == 0);
        }(),
        ...);
  }(std::make_index_sequence<schedule::parameter_count>{});
  std::size_t t = 0;
  params.visit([&](std::string_view name, const auto&, const auto& grad) {
    BOOST_TEST_INFO("gradient of " << name);
    BOOST_TEST(std::memcmp(unwatched[t++].data(), grad.data(), grad.size() * sizeof(float)) == 0);
  });
}

template <class Tensor>
void fill(Tensor& t, tl::random_stream& rng) {
  for (std::size_t k = 0; k < t.size(); ++k) t.data()[k] = rng.normal();
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_mlps_gradients_are_whole_after_the_kernels_the_plan_names) {
  constexpr auto X = tl::input<"X", float, 8, 12>;
  constexpr auto Y = tl::input<"Y", std::int32_t, 8>;
  constexpr auto loss =
      tl::cross_entropy(tl::nn::linear<"out", 3>(tl::relu(tl::nn::linear<"hidden", 16>(X))), Y);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 1);
  tl::random_stream rng{2};
  tl::tensor<float, 8, 12> x;
  fill(x, rng);
  tl::tensor<std::int32_t, 8> y;
  for (std::size_t r = 0; r < 8; ++r) y[r] = static_cast<std::int32_t>(rng.below(3));
  check_positions(program, params, X = x, Y = y);
  // The output layer's gradients are whole before the hidden layer's weight gradient runs.
  constexpr auto table = decltype(program)::training_schedule::gradients_written_at<>;
  BOOST_TEST(*std::min_element(table.begin(), table.end()) + 1 < *std::max_element(table.begin(), table.end()));
  // With the large kernels shared by a pool: told after each whole kernel all the same.
  tl::thread_pool pool(2);
  program.use_threads(&pool);
  check_positions(program, params, X = x, Y = y);
}

BOOST_AUTO_TEST_CASE(a_cnns_gradients_are_whole_after_the_kernels_the_plan_names) {
  constexpr auto I = tl::input<"I", float, 2, 3, 9, 7>;
  constexpr auto Y = tl::input<"Y", std::int32_t, 2>;
  constexpr auto loss = tl::cross_entropy(
      tl::nn::linear<"fc", 5>(tl::flatten(tl::max_pool2d<2>(
          tl::relu(tl::nn::conv2d<"conv1", 4, 3, tl::nn::conv_options{.padding = 1}>(I))))),
      Y);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 3);
  tl::random_stream rng{4};
  tl::tensor<float, 2, 3, 9, 7> images;
  fill(images, rng);
  tl::tensor<std::int32_t, 2> y;
  y[0] = 1, y[1] = 4;
  check_positions(program, params, I = images, Y = y);
  // The layer nearest the loss first: fc's gradients are written before the
  // convolution's backward pass runs, not after it (plan.hpp's hoist_gradients).
  using schedule = decltype(program)::training_schedule;
  constexpr auto table = schedule::gradients_written_at<>;
  auto at = [&](std::string_view name) {
    int position = -1;
    [&]<std::size_t... P>(std::index_sequence<P...>) {
      ((schedule::parameter<P>::name.view() == name ? void(position = table[P]) : void()), ...);
    }(std::make_index_sequence<schedule::parameter_count>{});
    BOOST_TEST_REQUIRE(position >= 0, name);
    return position;
  };
  BOOST_TEST(at("fc.weight") < at("conv1.weight"));
  BOOST_TEST(at("fc.bias") < at("conv1.bias"));
  BOOST_TEST(at("fc.weight") + 3 < int(decltype(program)::training_kernels));
}

BOOST_AUTO_TEST_CASE(gradients_of_several_terms_and_of_constants_are_whole_after_their_kernels) {
  // W's gradient sums two paths; c's is a constant (the count of a sum);
  // v's is written by a reduction.
  constexpr auto X = tl::input<"X", float, 6, 5>;
  constexpr auto W = tl::param<"W", float, 5, 4>;
  constexpr auto v = tl::param<"v", float, 4>;
  constexpr auto c = tl::param<"c", float, 3>;
  constexpr auto loss =
      tl::sum(tl::square(tl::matmul(X, W) + v)) + tl::sum(tl::tanh(tl::matmul(X, W))) + tl::sum(c);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 5);
  tl::random_stream rng{6};
  tl::tensor<float, 6, 5> x;
  fill(x, rng);
  check_positions(program, params, X = x);
}
