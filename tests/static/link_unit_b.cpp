#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  return f(x = x_value);
}
