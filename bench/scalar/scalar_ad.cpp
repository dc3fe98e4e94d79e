// The scalar AD benchmarks of the literature at small sizes, written with
// scalar symbols: sum, product and log-sum-exp of 8 variables, the normal
// log-density of 8 observations, and FastAD's 2-3-3-1 network with squared
// loss. Each is timed three ways in one run:
//   function  the plain function, hand-written in C++;
//   hand      its gradient (with the value) as an expert writes it by hand;
//   tapeless  tl::grad(f, ...) evaluated in one pass.
// and reported as tapeless / function (the ratio the AD literature publishes)
// and tapeless / hand. Results: bench/results/scalar_ad.md.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <tapeless/tapeless.hpp>

#include "harness.hpp"

namespace tl = tapeless;
namespace tb = tapeless::bench;
using namespace tl::literals;

namespace {

// The value of a function and its partial derivatives, laid out as tapeless's
// gradient_values. Left uninitialized, as an expert would: every member is
// written by the hand-coded gradients.
template <std::size_t N>
struct gradient_result {
  double value;
  std::array<double, N> partials;
};

// f(symbols[0] = values[0], symbols[1] = values[1], ...).
template <class F, class... Symbols>
auto call_bound(const F& f, const std::tuple<Symbols...>& symbols, const double* values) {
  return [&]<std::size_t... K>(std::index_sequence<K...>) {
    return f((std::get<K>(symbols) = values[K])...);
  }(std::index_sequence_for<Symbols...>{});
}

// The first N elements of a tuple.
template <std::size_t N, class Tuple>
constexpr auto first(const Tuple& t) {
  return [&]<std::size_t... K>(std::index_sequence<K...>) {
    return std::tuple{std::get<K>(t)...};
  }(std::make_index_sequence<N>{});
}

// tl::grad(f, variables...).
template <class F, class... Symbols>
constexpr auto gradient_of(const F& f, const std::tuple<Symbols...>& variables) {
  return std::apply([&](auto... x) { return tl::grad(f, x...); }, variables);
}

constexpr std::tuple x8{tl::var<"x0">, tl::var<"x1">, tl::var<"x2">, tl::var<"x3">,
                        tl::var<"x4">, tl::var<"x5">, tl::var<"x6">, tl::var<"x7">};

// ---- sum of 8 --------------------------------------------------------------

struct sum_of_8 {
  static constexpr const char* name = "sum of 8";
  static constexpr std::size_t variables = 8, inputs = 8;
  static constexpr auto symbols = x8;
  static constexpr auto f = std::apply([](auto... x) { return (... + x); }, x8);

  static void fill(std::mt19937_64& rng, double* in) {
    std::uniform_real_distribution<double> u(-1, 1);
    for (std::size_t i = 0; i < inputs; ++i) in[i] = u(rng);
  }
  static double function(const double* x) {
    double s = x[0];
    for (int i = 1; i < 8; ++i) s += x[i];
    return s;
  }
  static gradient_result<8> hand(const double* x) {
    gradient_result<8> r;
    r.value = function(x);
    r.partials.fill(1.0);
    return r;
  }
};

// ---- product of 8 ----------------------------------------------------------

struct product_of_8 {
  static constexpr const char* name = "product of 8";
  static constexpr std::size_t variables = 8, inputs = 8;
  static constexpr auto symbols = x8;
  static constexpr auto f = std::apply([](auto... x) { return (... * x); }, x8);

  static void fill(std::mt19937_64& rng, double* in) {
    std::uniform_real_distribution<double> u(0.5, 1.5);
    for (std::size_t i = 0; i < inputs; ++i) in[i] = u(rng);
  }
  static double function(const double* x) {
    double p = x[0];
    for (int i = 1; i < 8; ++i) p *= x[i];
    return p;
  }
  // Prefix products forward, suffix products backward: no division, so exact
  // zeros are fine.
  static gradient_result<8> hand(const double* x) {
    gradient_result<8> r;
    double prefix[8];  // prefix[i] = x[0] * ... * x[i - 1]
    prefix[0] = 1;
    for (int i = 1; i < 8; ++i) prefix[i] = prefix[i - 1] * x[i - 1];
    r.value = prefix[7] * x[7];
    double suffix = 1;  // x[i + 1] * ... * x[7]
    for (int i = 7; i >= 0; --i) {
      r.partials[i] = prefix[i] * suffix;
      suffix *= x[i];
    }
    return r;
  }
};

// ---- log-sum-exp of 8 --------------------------------------------------------

// Without the max shift (the inputs are in [-2, 2]): the same formula in all
// three versions.
struct log_sum_exp_of_8 {
  static constexpr const char* name = "log-sum-exp of 8";
  static constexpr std::size_t variables = 8, inputs = 8;
  static constexpr auto symbols = x8;
  static constexpr auto f =
      std::apply([](auto... x) { return tl::log((... + tl::exp(x))); }, x8);

  static void fill(std::mt19937_64& rng, double* in) {
    std::uniform_real_distribution<double> u(-2, 2);
    for (std::size_t i = 0; i < inputs; ++i) in[i] = u(rng);
  }
  static double function(const double* x) {
    double s = std::exp(x[0]);
    for (int i = 1; i < 8; ++i) s += std::exp(x[i]);
    return std::log(s);
  }
  static gradient_result<8> hand(const double* x) {
    double e[8];
    double s = e[0] = std::exp(x[0]);
    for (int i = 1; i < 8; ++i) s += e[i] = std::exp(x[i]);
    gradient_result<8> r;
    r.value = std::log(s);
    const double inverse = 1 / s;
    for (int i = 0; i < 8; ++i) r.partials[i] = e[i] * inverse;
    return r;
  }
};

// ---- normal log-density of 8 observations ------------------------------------

// sum_i log N(y_i | mu, sigma) with mu and sigma the variables and the
// observations y_i bound symbols (run-time data, not differentiated).
struct normal_log_density_of_8 {
  static constexpr const char* name = "normal log-density, 8 obs.";
  static constexpr std::size_t variables = 2, inputs = 10;
  static constexpr auto mu = tl::var<"mu">;
  static constexpr auto sigma = tl::var<"sigma">;
  static constexpr std::tuple observations{tl::var<"y0">, tl::var<"y1">, tl::var<"y2">,
                                           tl::var<"y3">, tl::var<"y4">, tl::var<"y5">,
                                           tl::var<"y6">, tl::var<"y7">};
  static constexpr auto symbols = std::tuple_cat(std::tuple{mu, sigma}, observations);
  static constexpr double n_log_sqrt_two_pi = 8 * 0.91893853320467274178;

  // -1/2 sum ((y_i - mu) / sigma)^2 - n log(sigma) - n log(sqrt(2 pi))
  static constexpr auto f =
      -0.5_c * std::apply([](auto... y) { return (... + tl::pow((y - mu) / sigma, 2_c)); },
                          observations) -
      8_c * tl::log(sigma) - n_log_sqrt_two_pi;

  static void fill(std::mt19937_64& rng, double* in) {
    std::uniform_real_distribution<double> u(-1, 1);
    in[0] = u(rng);              // mu
    in[1] = 1.5 + 0.5 * u(rng);  // sigma in [1, 2]
    for (std::size_t i = 2; i < inputs; ++i) in[i] = 2 * u(rng);
  }
  static double function(const double* in) {
    const double mu = in[0], sigma = in[1];
    const double* y = in + 2;
    double sum_of_squares = 0;
    for (int i = 0; i < 8; ++i) {
      const double z = (y[i] - mu) / sigma;
      sum_of_squares += z * z;
    }
    return -0.5 * sum_of_squares - 8 * std::log(sigma) - n_log_sqrt_two_pi;
  }
  // d/dmu = sum z_i / sigma, d/dsigma = (sum z_i^2 - n) / sigma, z_i = (y_i - mu) / sigma.
  static gradient_result<2> hand(const double* in) {
    const double mu = in[0], sigma = in[1];
    const double* y = in + 2;
    const double inverse_sigma = 1 / sigma;
    double sum = 0, sum_of_squares = 0;
    for (int i = 0; i < 8; ++i) {
      const double z = (y[i] - mu) * inverse_sigma;
      sum += z;
      sum_of_squares += z * z;
    }
    gradient_result<2> r;
    r.value = -0.5 * sum_of_squares - 8 * std::log(sigma) - n_log_sqrt_two_pi;
    r.partials[0] = sum * inverse_sigma;
    r.partials[1] = (sum_of_squares - 8) * inverse_sigma;
    return r;
  }
};

// The same density written with the reciprocal 1/sigma, as pow(sigma, -1): the
// form that divides once. Its plain function multiplies by 1/sigma too; the
// hand gradient is the one above, which already does.
struct normal_log_density_of_8_reciprocal : normal_log_density_of_8 {
  static constexpr const char* name = "normal log-density, 8 obs., 1/sigma";
  static constexpr auto inverse_sigma = tl::pow(sigma, -1_c);

  // -1/2 sum ((y_i - mu) sigma^-1)^2 - n log(sigma) - n log(sqrt(2 pi))
  static constexpr auto f =
      -0.5_c *
          std::apply([](auto... y) { return (... + tl::pow((y - mu) * inverse_sigma, 2_c)); },
                     observations) -
      8_c * tl::log(sigma) - n_log_sqrt_two_pi;

  static double function(const double* in) {
    const double mu = in[0], sigma = in[1];
    const double* y = in + 2;
    const double inverse_sigma = 1 / sigma;
    double sum_of_squares = 0;
    for (int i = 0; i < 8; ++i) {
      const double z = (y[i] - mu) * inverse_sigma;
      sum_of_squares += z * z;
    }
    return -0.5 * sum_of_squares - 8 * std::log(sigma) - n_log_sqrt_two_pi;
  }
};

// ---- FastAD's 2-3-3-1 network ------------------------------------------------

// The network of FastAD's example/ceres_3layer_neural_net, one sample:
//   x1 = A1 xi + b1, y1 = sigmoid(x1), y2 = sigmoid(A2 y1 + b2) + x1,
//   y3 = A3 y2 + b3, loss = (yi - y3)^2
// A1 is 3x2, A2 3x3, A3 1x3: 25 weights and biases, all variables (row-major,
// in this order); the sample (xi, yi) is run-time data.
struct network_2_3_3_1 {
  static constexpr const char* name = "2-3-3-1 network, sq. loss";
  static constexpr std::size_t variables = 25, inputs = 28;

  static constexpr auto A1_00 = tl::var<"A1_00">;
  static constexpr auto A1_01 = tl::var<"A1_01">;
  static constexpr auto A1_10 = tl::var<"A1_10">;
  static constexpr auto A1_11 = tl::var<"A1_11">;
  static constexpr auto A1_20 = tl::var<"A1_20">;
  static constexpr auto A1_21 = tl::var<"A1_21">;
  static constexpr auto b1_0 = tl::var<"b1_0">;
  static constexpr auto b1_1 = tl::var<"b1_1">;
  static constexpr auto b1_2 = tl::var<"b1_2">;
  static constexpr auto A2_00 = tl::var<"A2_00">;
  static constexpr auto A2_01 = tl::var<"A2_01">;
  static constexpr auto A2_02 = tl::var<"A2_02">;
  static constexpr auto A2_10 = tl::var<"A2_10">;
  static constexpr auto A2_11 = tl::var<"A2_11">;
  static constexpr auto A2_12 = tl::var<"A2_12">;
  static constexpr auto A2_20 = tl::var<"A2_20">;
  static constexpr auto A2_21 = tl::var<"A2_21">;
  static constexpr auto A2_22 = tl::var<"A2_22">;
  static constexpr auto b2_0 = tl::var<"b2_0">;
  static constexpr auto b2_1 = tl::var<"b2_1">;
  static constexpr auto b2_2 = tl::var<"b2_2">;
  static constexpr auto A3_0 = tl::var<"A3_0">;
  static constexpr auto A3_1 = tl::var<"A3_1">;
  static constexpr auto A3_2 = tl::var<"A3_2">;
  static constexpr auto b3 = tl::var<"b3">;
  static constexpr auto xi0 = tl::var<"xi0">;
  static constexpr auto xi1 = tl::var<"xi1">;
  static constexpr auto yi = tl::var<"yi">;
  static constexpr std::tuple symbols{A1_00, A1_01, A1_10, A1_11, A1_20, A1_21, b1_0,
                                      b1_1,  b1_2,  A2_00, A2_01, A2_02, A2_10, A2_11,
                                      A2_12, A2_20, A2_21, A2_22, b2_0,  b2_1,  b2_2,
                                      A3_0,  A3_1,  A3_2,  b3,    xi0,   xi1,   yi};

  static constexpr auto x1_0 = A1_00 * xi0 + A1_01 * xi1 + b1_0;
  static constexpr auto x1_1 = A1_10 * xi0 + A1_11 * xi1 + b1_1;
  static constexpr auto x1_2 = A1_20 * xi0 + A1_21 * xi1 + b1_2;
  static constexpr auto y1_0 = tl::sigmoid(x1_0);
  static constexpr auto y1_1 = tl::sigmoid(x1_1);
  static constexpr auto y1_2 = tl::sigmoid(x1_2);
  static constexpr auto h2_0 = A2_00 * y1_0 + A2_01 * y1_1 + A2_02 * y1_2 + b2_0;
  static constexpr auto h2_1 = A2_10 * y1_0 + A2_11 * y1_1 + A2_12 * y1_2 + b2_1;
  static constexpr auto h2_2 = A2_20 * y1_0 + A2_21 * y1_1 + A2_22 * y1_2 + b2_2;
  static constexpr auto y2_0 = tl::sigmoid(h2_0) + x1_0;
  static constexpr auto y2_1 = tl::sigmoid(h2_1) + x1_1;
  static constexpr auto y2_2 = tl::sigmoid(h2_2) + x1_2;
  static constexpr auto y3 = A3_0 * y2_0 + A3_1 * y2_1 + A3_2 * y2_2 + b3;
  static constexpr auto f = tl::pow(yi - y3, 2_c);

  static void fill(std::mt19937_64& rng, double* in) {
    std::uniform_real_distribution<double> u(-1, 1);
    for (std::size_t i = 0; i < inputs; ++i) in[i] = u(rng);
    in[25] *= 2;  // xi in [-2, 2]
    in[26] *= 2;
  }

  static double sigmoid(double a) { return 1 / (1 + std::exp(-a)); }

  // The weights as they lie in the input (and their partials in the gradient):
  // A1 at 0, b1 at 6, A2 at 9, b2 at 18, A3 at 21, b3 at 24; then xi and yi.
  struct layout {
    static constexpr int A1 = 0, b1 = 6, A2 = 9, b2 = 18, A3 = 21, b3 = 24, xi = 25, yi = 27;
  };

  static double function(const double* w) {
    using L = layout;
    double x1[3], y1[3], y2[3];
    for (int i = 0; i < 3; ++i) {
      x1[i] = w[L::A1 + 2 * i] * w[L::xi] + w[L::A1 + 2 * i + 1] * w[L::xi + 1] + w[L::b1 + i];
      y1[i] = sigmoid(x1[i]);
    }
    for (int i = 0; i < 3; ++i) {
      const double* a2 = w + L::A2 + 3 * i;
      y2[i] = sigmoid(a2[0] * y1[0] + a2[1] * y1[1] + a2[2] * y1[2] + w[L::b2 + i]) + x1[i];
    }
    const double y3 = w[L::A3] * y2[0] + w[L::A3 + 1] * y2[1] + w[L::A3 + 2] * y2[2] + w[L::b3];
    const double r = w[L::yi] - y3;
    return r * r;
  }

  // Backpropagation written out: forward, keep the activations, then the
  // adjoints layer by layer (the skip connection adds dy2 to dx1).
  static gradient_result<25> hand(const double* w) {
    using L = layout;
    gradient_result<25> r;
    double* g = r.partials.data();
    double x1[3], y1[3], s2[3], y2[3];
    for (int i = 0; i < 3; ++i) {
      x1[i] = w[L::A1 + 2 * i] * w[L::xi] + w[L::A1 + 2 * i + 1] * w[L::xi + 1] + w[L::b1 + i];
      y1[i] = sigmoid(x1[i]);
    }
    for (int i = 0; i < 3; ++i) {
      const double* a2 = w + L::A2 + 3 * i;
      s2[i] = sigmoid(a2[0] * y1[0] + a2[1] * y1[1] + a2[2] * y1[2] + w[L::b2 + i]);
      y2[i] = s2[i] + x1[i];
    }
    const double y3 = w[L::A3] * y2[0] + w[L::A3 + 1] * y2[1] + w[L::A3 + 2] * y2[2] + w[L::b3];
    const double residual = w[L::yi] - y3;
    r.value = residual * residual;

    const double dy3 = -2 * residual;
    g[L::b3] = dy3;
    double dy2[3], dh2[3], dx1[3];
    for (int i = 0; i < 3; ++i) {
      g[L::A3 + i] = dy3 * y2[i];
      dy2[i] = dy3 * w[L::A3 + i];
      dh2[i] = dy2[i] * s2[i] * (1 - s2[i]);
      g[L::b2 + i] = dh2[i];
      for (int j = 0; j < 3; ++j) g[L::A2 + 3 * i + j] = dh2[i] * y1[j];
    }
    for (int j = 0; j < 3; ++j) {
      const double dy1 =
          dh2[0] * w[L::A2 + j] + dh2[1] * w[L::A2 + 3 + j] + dh2[2] * w[L::A2 + 6 + j];
      dx1[j] = dy1 * y1[j] * (1 - y1[j]) + dy2[j];
      g[L::b1 + j] = dx1[j];
      g[L::A1 + 2 * j] = dx1[j] * w[L::xi];
      g[L::A1 + 2 * j + 1] = dx1[j] * w[L::xi + 1];
    }
    return r;
  }
};

// ---- the driver --------------------------------------------------------------

constexpr std::size_t pool_size = 64;  // input sets, taken in turn (a power of two)

double relative_difference(double a, double b) {
  const double scale = std::max({std::abs(a), std::abs(b), 1e-300});
  return std::abs(a - b) / scale;
}

struct row {
  std::string name;
  tb::summary function, hand, tapeless;
  tb::summary tapeless_over_function, hand_over_function, tapeless_over_hand;
  double tapeless_vs_hand = 0;  // max relative difference, value and partials
  double function_vs_hand = 0;  // max relative difference of the values
};

template <class Case>
row measure() {
  static constexpr auto g = gradient_of(Case::f, first<Case::variables>(Case::symbols));

  tb::input_pool<double> inputs(pool_size, Case::inputs);
  std::mt19937_64 rng(20240611);
  for (std::size_t k = 0; k < inputs.sets(); ++k) Case::fill(rng, inputs.set(k));

  row out;
  out.name = Case::name;
  for (std::size_t k = 0; k < inputs.sets(); ++k) {
    const double* in = inputs.set(k);
    const auto h = Case::hand(in);
    const auto t = call_bound(g, Case::symbols, in);
    const auto worst = [](double& so_far, double a, double b) {
      so_far = std::max(so_far, relative_difference(a, b));
    };
    worst(out.function_vs_hand, Case::function(in), h.value);
    worst(out.tapeless_vs_hand, t.value, h.value);
    for (std::size_t i = 0; i < Case::variables; ++i)
      worst(out.tapeless_vs_hand, t.partials[i], h.partials[i]);
  }
  tb::benchmark b(Case::name);
  b.add("function", [&](std::uint64_t i) { tb::do_not_optimize(Case::function(inputs(i))); });
  b.add("hand", [&](std::uint64_t i) { tb::do_not_optimize(Case::hand(inputs(i))); });
  b.add("tapeless",
        [&](std::uint64_t i) { tb::do_not_optimize(call_bound(g, Case::symbols, inputs(i))); });
  b.run();
  b.print(stderr);
  std::fprintf(stderr,
               "  max relative difference: tapeless vs hand %.1e, function vs hand (value) %.1e\n",
               out.tapeless_vs_hand, out.function_vs_hand);

  out.function = b.time("function");
  out.hand = b.time("hand");
  out.tapeless = b.time("tapeless");
  out.tapeless_over_function = b.ratio("tapeless", "function");
  out.hand_over_function = b.ratio("hand", "function");
  out.tapeless_over_hand = b.ratio("tapeless", "hand");
  return out;
}

// The 1-minute load average, printed with the figures: on a shared machine
// it says how far to trust them.
double load_average() {
  double load[1] = {-1};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

}  // namespace

int main() {
  const double load_before = load_average();
  const row rows[] = {measure<sum_of_8>(), measure<product_of_8>(), measure<log_sum_exp_of_8>(),
                      measure<normal_log_density_of_8>(),
                      measure<normal_log_density_of_8_reciprocal>(), measure<network_2_3_3_1>()};
  const double load_after = load_average();

  const auto o = tb::options::from_environment();
#if defined(__clang__)
  const char* compiler = "clang";
#elif defined(__GNUC__)
  const char* compiler = "g++";
#else
  const char* compiler = "unknown compiler";
#endif
  std::printf("%s %s; %d repetitions of ~%.2f s each, interleaved; "
              "ns per call, median (min-max); load average %.2f before, %.2f after\n\n",
              compiler, __VERSION__, o.repetitions, o.seconds_per_repetition, load_before,
              load_after);
  std::printf("| function | plain function ns | hand gradient ns | tapeless gradient ns | "
              "tapeless / function | hand / function | tapeless / hand | max rel. diff. |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows)
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %.1e |\n", r.name.c_str(),
                r.function.format().c_str(), r.hand.format().c_str(), r.tapeless.format().c_str(),
                r.tapeless_over_function.format().c_str(), r.hand_over_function.format().c_str(),
                r.tapeless_over_hand.format().c_str(), r.tapeless_vs_hand);
  return 0;
}
