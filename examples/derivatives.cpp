// A formula, its derivatives derived at compile time, and their values.
#include <tapeless/tapeless.hpp>

#include <cstdio>

namespace tl = tapeless;
using namespace tl::literals;

constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;

// The formula and its derivatives are constexpr values; their types are the graph.
constexpr auto f = tl::sin(x * y) + tl::exp(x) / y;
constexpr auto fx = tl::d(f, x);
constexpr auto fxx = tl::d(tl::d(f, x), x);
constexpr auto g = tl::grad(f, x, y);

// Polynomials and rational functions evaluate at compile time.
constexpr auto p = x * x * x - 2_c * x + 1_c;
static_assert(tl::d(p, x)(x = 2.0) == 10.0);

int main() {
  std::printf("f          = %s\n", tl::to_string(f).c_str());
  std::printf("df/dx      = %s\n", tl::to_string(fx).c_str());
  std::printf("d2f/dx2    = %s\n", tl::to_string(fxx).c_str());
  std::printf("df/dy      = %s\n", tl::to_string(g[y]).c_str());
  std::printf("d(p)/dx    = %s\n", tl::to_string(tl::d(p, x)).c_str());

  const double x0 = 0.5, y0 = 2.0;
  std::printf("\nat x = %g, y = %g:\n", x0, y0);
  std::printf("f          = %.12f\n", f(x = x0, y = y0));
  std::printf("df/dx      = %.12f\n", fx(x = x0, y = y0));
  std::printf("d2f/dx2    = %.12f\n", fxx(x = x0, y = y0));

  const auto all = g(x = x0, y = y0);  // f and both partials in one pass
  std::printf("grad f     = (%.12f, %.12f)\n", all[x], all[y]);

  const auto check = tl::check_gradient(f, tl::with_respect_to(x, y), x = x0, y = y0);
  std::printf("finite-difference check: max relative error %.2e\n", check.max_rel_error);
  return check.passed(1e-8) ? 0 : 1;
}
