#include <string_view>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  return f(x = x_value);
}

// scaled_op as in link_unit_a.cpp: the same name, another value.
namespace {

struct scaled_op : tl::elementwise_operation {
  static constexpr std::string_view name = "scaled";
  static constexpr auto apply(auto x) { return x + x + x; }
};
}  // namespace

#include "link_unit_program.hpp"

float scaled_in_unit_b(float a) { return scaled_product(a); }
