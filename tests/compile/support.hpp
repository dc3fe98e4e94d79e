#pragma once
// Shared by the compile tests: filling tensors from reference arrays and
// comparing gradients with PyTorch's and with central differences.

#include <boost/test/unit_test.hpp>

#include <tapeless/tapeless.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace test {

template <class Tensor, class V, std::size_t N>
void fill(Tensor& t, const V (&values)[N]) {
  BOOST_REQUIRE_EQUAL(t.size(), N);
  for (std::size_t i = 0; i < N; ++i) t[i] = static_cast<typename Tensor::value_type>(values[i]);
}

// |a - b| <= tolerance * max(1, |b|) for every element.
template <class Tensor, std::size_t N>
void check_close(std::string_view what, const Tensor& t, const double (&expected)[N], double tolerance) {
  BOOST_REQUIRE_EQUAL(t.size(), N);
  for (std::size_t i = 0; i < N; ++i) {
    const double got = static_cast<double>(t[i]);
    BOOST_TEST(std::abs(got - expected[i]) <= tolerance * std::max(1.0, std::abs(expected[i])),
               what << "[" << i << "] = " << got << ", PyTorch: " << expected[i]);
  }
}

inline void check_close(std::string_view what, double got, double expected, double tolerance) {
  BOOST_TEST(std::abs(got - expected) <= tolerance * std::max(1.0, std::abs(expected)),
             what << " = " << got << ", PyTorch: " << expected);
}

// Central differences of the forward program against the gradients a step
// left in the store, at a few elements of every parameter.
template <class Program, class Store, class... Bindings>
void check_finite_differences(Program& program, Store& params, double h, double tolerance,
                              const Bindings&... bindings) {
  program.step(params, bindings...);
  Store analytic = params;  // the gradients, kept while values move
  params.visit([&](std::string_view name, auto& value, auto&) {
    const std::size_t n = value.size();
    for (std::size_t k = 0; k < 5 && k < n; ++k) {
      const std::size_t i = (k * 7919) % n;
      const auto saved = value[i];
      value[i] = saved + h;
      const double up = program(params, bindings...);
      value[i] = saved - h;
      const double down = program(params, bindings...);
      value[i] = saved;
      const double numeric = (up - down) / (2 * h);
      double exact = 0;
      analytic.visit([&](std::string_view other, auto&, auto& grad) {
        if (other == name) exact = static_cast<double>(grad[i]);
      });
      BOOST_TEST(std::abs(numeric - exact) <= tolerance * std::max(1.0, std::abs(exact)),
                 std::string(name) << "[" << i << "]: gradient " << exact << ", central difference " << numeric);
    }
  });
}

}  // namespace test
