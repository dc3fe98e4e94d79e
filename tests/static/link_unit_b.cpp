#include <string_view>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  return f(x = x_value);
}

// As in link_unit_a.cpp, with the same names and other values.
namespace {

struct scaled_op : tl::elementwise_operation {
  static constexpr std::string_view name = "scaled";
  static constexpr auto apply(auto x) { return x + x + x; }
};

constexpr std::size_t rows = 96;
constexpr auto A = tl::input<"A", float, rows, rows>;
constexpr auto B = tl::input<"B", float, rows, rows>;

float scaled_product(float a) {
  const auto product = tl::matmul(A, B);
  const auto f = tl::node<scaled_op, std::remove_cvref_t<decltype(product)>>{product};
  auto program = tl::compile(f);
  auto none = tl::parameters_of(f);
  static tl::tensor<float, rows, rows> a_values, ones;
  a_values.fill(a);
  ones.fill(1.f);
  const auto& out = program(none, A = a_values, B = ones);
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] != out[0]) return -1.f;
  return out[0];
}

}  // namespace

float scaled_in_unit_b(float a) { return scaled_product(a); }
