// W3 with tapeless, in one of two forms (two programs from this file):
//   tensor form (scalar_tapeless): the function of a param tensor x [n] (or of
//     rank-0 params mu, sigma and an input y [n]) compiled with tl::compile;
//     program.step(params) returns the value and writes the gradient into
//     params.grad<...>(). n = 10, 100, 1000. No product: tapeless has no
//     product reduction.
//   scalar form (scalar_tapeless_vars, -DTAPELESS_W3_SCALAR_FORM): n = 10
//     scalar symbols and tl::grad(f, x0, ..., x9) evaluated in one pass, as
//     bench/scalar/scalar_ad.cpp does at n = 8.
// Both in float64, like the hand-coded gradients and ADOL-C.

#include <tapeless/tapeless.hpp>

#include "common.hpp"

#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <utility>

namespace tl = tapeless;
namespace peers = tapeless::bench::peers;
using namespace tl::literals;

namespace {

constexpr double log_sqrt_two_pi = 0.91893853320467274178;

#ifndef TAPELESS_W3_SCALAR_FORM

template <std::size_t N>
void tensor_form(peers::driver& d, const peers::w3_data& data) {
  const std::string sn = "_n" + std::to_string(N);
  static constexpr auto x = tl::param<"x", double, N>;
  static constexpr auto mu = tl::param<"mu", double>;
  static constexpr auto sigma = tl::param<"sigma", double>;
  static constexpr auto y = tl::input<"y", double, N>;

  const auto over_x = [&](const std::string& name, const auto& f, const std::vector<double>& values) {
    auto program = tl::compile(f);
    auto params = tl::parameters_of(f);
    auto& g = params.template grad<"x">();
    d.workload(
        name, [&] { std::memcpy(params.template get<"x">().data(), values.data(), N * sizeof(double)); },
        [&](std::uint64_t) { return program.step(params); },
        [&](double v) { return peers::gradient_checksum(v, g.data(), N); });
  };
  over_x("w3_sum" + sn, tl::sum(x), data.x);
  over_x("w3_logsumexp" + sn, tl::logsumexp(x), data.x);

  // sum_k log N(y_k | mu, sigma)
  static constexpr auto normal =
      -0.5_c * tl::sum(tl::square((y - mu) / sigma)) - tl::c<N> * tl::log(sigma) - tl::c<N> * log_sqrt_two_pi;
  auto program = tl::compile(normal);
  auto params = tl::parameters_of(normal);
  const std::span<const double, N> ys(data.y.data(), N);
  d.workload(
      "w3_normal" + sn,
      [&] {
        params.template get<"mu">().data()[0] = data.mu;
        params.template get<"sigma">().data()[0] = data.sigma;
      },
      [&](std::uint64_t) { return program.step(params, y = ys); },
      [&](double v) {
        const double g[2] = {params.template grad<"mu">().data()[0], params.template grad<"sigma">().data()[0]};
        return peers::gradient_checksum(v, g, 2);
      });
}

#else

constexpr std::tuple x10{tl::var<"x0">, tl::var<"x1">, tl::var<"x2">, tl::var<"x3">, tl::var<"x4">,
                         tl::var<"x5">, tl::var<"x6">, tl::var<"x7">, tl::var<"x8">, tl::var<"x9">};
constexpr std::tuple y10{tl::var<"y0">, tl::var<"y1">, tl::var<"y2">, tl::var<"y3">, tl::var<"y4">,
                         tl::var<"y5">, tl::var<"y6">, tl::var<"y7">, tl::var<"y8">, tl::var<"y9">};
constexpr auto mu = tl::var<"mu">;
constexpr auto sigma = tl::var<"sigma">;

// g(x0 = v[0], ..., x9 = v[9], extra...)
template <class G, class... Extra>
auto call10(const G& g, const double* v, const Extra&... extra) {
  return [&]<std::size_t... K>(std::index_sequence<K...>) {
    return g((std::get<K>(x10) = v[K])..., extra...);
  }(std::make_index_sequence<10>{});
}

void scalar_form(peers::driver& d, const peers::w3_data& data) {
  static double out[10];
  const auto over_x = [&](const std::string& name, const auto& f, const std::vector<double>& values) {
    const auto g = std::apply([&](auto... x) { return tl::grad(f, x...); }, x10);
    d.workload(
        name, [] {},
        [&, g](std::uint64_t) {
          const auto r = call10(g, values.data());
          for (std::size_t k = 0; k < 10; ++k) out[k] = r.partials[k];
          return r.value;
        },
        [&](double v) { return peers::gradient_checksum(v, out, 10); });
  };
  over_x("w3_sum_n10", std::apply([](auto... x) { return (... + x); }, x10), data.x);
  over_x("w3_product_n10", std::apply([](auto... x) { return (... * x); }, x10), data.p);
  // Without the max shift (inputs in [-1, 1]), as scalar_ad.cpp.
  over_x("w3_logsumexp_n10", tl::log(std::apply([](auto... x) { return (... + tl::exp(x)); }, x10)), data.x);

  static constexpr auto normal =
      -0.5_c * std::apply([](auto... y) { return (... + tl::pow((y - mu) / sigma, 2_c)); }, y10) -
      10_c * tl::log(sigma) - 10 * log_sqrt_two_pi;
  static constexpr auto g = tl::grad(normal, mu, sigma);
  d.workload(
      "w3_normal_n10", [] {},
      [&](std::uint64_t) {
        const double* yv = data.y.data();
        const auto r = [&]<std::size_t... K>(std::index_sequence<K...>) {
          return g(mu = data.mu, sigma = data.sigma, (std::get<K>(y10) = yv[K])...);
        }(std::make_index_sequence<10>{});
        out[0] = r.partials[0];
        out[1] = r.partials[1];
        return r.value;
      },
      [&](double v) { return peers::gradient_checksum(v, out, 2); });
}

#endif

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  const peers::w3_data data(d.dir());
#ifndef TAPELESS_W3_SCALAR_FORM
  tensor_form<10>(d, data);
  tensor_form<100>(d, data);
  tensor_form<1000>(d, data);
#else
  scalar_form(d, data);
#endif
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scalar_tapeless: %s\n", e.what());
  return 1;
}
