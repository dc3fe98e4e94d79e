#define BOOST_TEST_MODULE nn_init
#include <boost/test/unit_test.hpp>

#include <tapeless/nn/init.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace tl = tapeless;

namespace {

// A small network's store: two linear layers, a conv kernel [out, in, kh, kw],
// and a scalar.
using network = tl::parameter_store<tl::inline_storage,                                        //
                                    tl::parameter_entry<"conv.weight", float, tl::shape<4, 3, 3, 3>>,  //
                                    tl::parameter_entry<"conv.bias", float, tl::shape<4>>,              //
                                    tl::parameter_entry<"fc1.weight", float, tl::shape<32, 20>>,        //
                                    tl::parameter_entry<"fc1.bias", float, tl::shape<32>>,              //
                                    tl::parameter_entry<"fc2.weight", double, tl::shape<10, 32>>,       //
                                    tl::parameter_entry<"fc2.bias", double, tl::shape<10>>,             //
                                    tl::parameter_entry<"temperature", float, tl::shape<>>>;

template <class Tensor>
bool bits_equal(const Tensor& a, const Tensor& b) {
  return std::memcmp(a.data(), b.data(), Tensor::size() * sizeof(typename Tensor::value_type)) == 0;
}

// Every value of a and b, bit for bit.
bool same_bits(const network& a, const network& b) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (bits_equal(a.value_at<I>(), b.value_at<I>()) && ...);
  }(std::make_index_sequence<network::count>{});
}

void fill_everything(network& params, float v) {
  params.visit([&](std::string_view, auto& value, auto& grad) {
    value.fill(v);
    grad.fill(v);
  });
}

// Applies each random initializer of a store to params with the given seed.
template <class F>
void for_each_random_initializer(F&& f) {
  f("xavier_uniform", [](network& p, std::uint64_t seed) { tl::init::xavier_uniform(p, seed); });
  f("xavier_normal", [](network& p, std::uint64_t seed) { tl::init::xavier_normal(p, seed); });
  f("he_uniform", [](network& p, std::uint64_t seed) { tl::init::he_uniform(p, seed); });
  f("he_normal", [](network& p, std::uint64_t seed) { tl::init::he_normal(p, seed); });
}

struct moments {
  double mean, variance, largest_magnitude;
};

template <class Tensor>
moments moments_of(const Tensor& t) {
  double sum = 0, squares = 0, largest = 0;
  for (auto x : t) {
    sum += x;
    squares += double(x) * x;
    largest = std::max(largest, std::abs(double(x)));
  }
  const double n = double(t.size());
  return {sum / n, squares / n - (sum / n) * (sum / n), largest};
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_seed_gives_identical_bits_and_another_seed_does_not) {
  for_each_random_initializer([](std::string_view name, auto init) {
    network a, b, c;
    fill_everything(a, 1.f);
    fill_everything(b, 2.f);
    init(a, 42);
    init(b, 42);
    init(c, 43);
    BOOST_TEST(same_bits(a, b), name);
    BOOST_TEST(!same_bits(a, c), name);
    BOOST_TEST(a.get<"fc1.weight">() != c.get<"fc1.weight">(), name);
    BOOST_TEST(a.get<"fc2.weight">() != c.get<"fc2.weight">(), name);
  });
}

BOOST_AUTO_TEST_CASE(store_initializers_zero_biases_and_scalars_and_fill_every_weight) {
  for_each_random_initializer([](std::string_view name, auto init) {
    network params;
    fill_everything(params, 7.f);
    init(params, 1);
    for (float b : params.get<"conv.bias">()) BOOST_TEST(b == 0.f, name);
    for (float b : params.get<"fc1.bias">()) BOOST_TEST(b == 0.f, name);
    for (double b : params.get<"fc2.bias">()) BOOST_TEST(b == 0.0, name);
    BOOST_TEST(params.get<"temperature">()() == 0.f, name);
    // Every weight element was drawn (none left at 7), and gradients are untouched.
    params.visit([&](std::string_view entry, const auto& value, const auto& grad) {
      for (auto x : value) BOOST_TEST(x != 7, name << " " << entry);
      for (auto g : grad) BOOST_TEST(g == 7, name << " " << entry);
    });
  });
}

BOOST_AUTO_TEST_CASE(a_store_draws_its_weights_from_one_stream_in_store_order) {
  network whole, one_by_one;
  tl::init::he_normal(whole, 99);
  tl::random_stream rng{99};
  tl::init::he_normal(one_by_one.get<"conv.weight">(), rng);
  tl::init::he_normal(one_by_one.get<"fc1.weight">(), rng);
  tl::init::he_normal(one_by_one.get<"fc2.weight">(), rng);
  BOOST_TEST(same_bits(whole, one_by_one));
}

BOOST_AUTO_TEST_CASE(uniform_initializers_stay_within_torch_bounds_and_reach_them) {
  // torch: xavier_uniform_ a = gain * sqrt(6 / (fan_in + fan_out)); kaiming_uniform_
  // (relu, fan_in) a = sqrt(2) * sqrt(3 / fan_in). For [4, 3, 3, 3]: fan_in 27, fan_out 36.
  network params;
  tl::init::xavier_uniform(params, 5, 1.5);
  const double xavier_conv = 1.5 * std::sqrt(6.0 / (27 + 36)), xavier_fc1 = 1.5 * std::sqrt(6.0 / (20 + 32));
  BOOST_TEST(moments_of(params.get<"conv.weight">()).largest_magnitude <= xavier_conv);
  BOOST_TEST(moments_of(params.get<"fc1.weight">()).largest_magnitude <= xavier_fc1);
  BOOST_TEST(moments_of(params.get<"fc1.weight">()).largest_magnitude > 0.95 * xavier_fc1);
  tl::init::he_uniform(params, 5);
  const double he_conv = std::sqrt(6.0 / 27), he_fc2 = std::sqrt(6.0 / 32);
  BOOST_TEST(moments_of(params.get<"conv.weight">()).largest_magnitude <= he_conv);
  BOOST_TEST(moments_of(params.get<"fc2.weight">()).largest_magnitude <= he_fc2);
  BOOST_TEST(moments_of(params.get<"fc2.weight">()).largest_magnitude > 0.95 * he_fc2);
}

BOOST_AUTO_TEST_CASE(large_weights_have_the_mean_and_variance_of_torch_formulas) {
  // [out 256, in 128, k 3]: fan_in = 384, fan_out = 768; 98304 draws.
  using weight = tl::tensor<float, 256, 128, 3>;
  const auto t = std::make_unique<weight>();
  const double n = double(weight::size()), fan_in = 384, fan_out = 768;
  // (variance, E[x^4]): the fourth moment gives the spread of the sample variance.
  const auto uniform = [](double bound) { return std::pair{bound * bound / 3, std::pow(bound, 4) / 5}; };
  const auto normal = [](double sd) { return std::pair{sd * sd, 3 * std::pow(sd, 4)}; };
  const auto check = [&](std::string_view name, std::pair<double, double> expected) {
    const auto [variance, fourth] = expected;
    const auto m = moments_of(*t);
    // Five standard errors either way: a false alarm about once in 3.5 million runs.
    BOOST_TEST(std::abs(m.mean) <= 5 * std::sqrt(variance / n), name << " mean " << m.mean);
    BOOST_TEST(std::abs(m.variance - variance) <= 5 * std::sqrt((fourth - variance * variance) / n),
               name << " variance " << m.variance << " vs " << variance);
  };
  tl::random_stream rng{2024};
  tl::init::xavier_uniform(*t, rng, 0.5);
  check("xavier_uniform", uniform(0.5 * std::sqrt(6 / (fan_in + fan_out))));
  tl::init::xavier_normal(*t, rng, 0.5);
  check("xavier_normal", normal(0.5 * std::sqrt(2 / (fan_in + fan_out))));
  tl::init::he_uniform(*t, rng);
  check("he_uniform", uniform(std::sqrt(2.0) * std::sqrt(3 / fan_in)));
  tl::init::he_normal(*t, rng);
  check("he_normal", normal(std::sqrt(2.0) / std::sqrt(fan_in)));
}

BOOST_AUTO_TEST_CASE(xavier_gain_scales_the_draws_exactly) {
  // Doubling the gain doubles every value bit for bit: the same draws, scaled by two.
  tl::tensor<float, 8, 5> one, two;
  for (auto normal : {false, true}) {
    tl::random_stream a{3}, b{3};
    if (normal) {
      tl::init::xavier_normal(one, a);
      tl::init::xavier_normal(two, b, 2);
    } else {
      tl::init::xavier_uniform(one, a);
      tl::init::xavier_uniform(two, b, 2);
    }
    for (std::size_t i = 0; i < one.size(); ++i) BOOST_TEST(two[i] == 2 * one[i]);
  }
}

BOOST_AUTO_TEST_CASE(zeros_and_constant_set_every_tensor_of_a_store) {
  network params;
  fill_everything(params, 3.f);
  tl::init::constant(params, 0.5);
  params.visit([](std::string_view name, const auto& value, const auto& grad) {
    for (auto x : value) BOOST_TEST(x == 0.5, name);
    for (auto g : grad) BOOST_TEST(g == 3, name);
  });
  tl::init::zeros(params);
  params.visit([](std::string_view name, const auto& value, const auto&) {
    for (auto x : value) BOOST_TEST(x == 0, name);
  });
  tl::init::constant(params.get<"fc1.bias">(), 0.1f);
  BOOST_TEST(params.get<"fc1.bias">()[31] == 0.1f);
}
