// Two translation units that include the whole library and use the same
// expressions: a missing `inline` would be a duplicate symbol at link time.
// And two units that compile programs whose graphs differ only in types the
// compiler prints alike (compile/schedule_key.hpp): each must run its own.
#define BOOST_TEST_MODULE link_two_units
#include <boost/test/unit_test.hpp>

#include <string_view>

#include <tapeless/tapeless.hpp>

namespace tl = tapeless;

double derivative_in_unit_b(double x_value);
float scaled_in_unit_b(float x_value);

BOOST_AUTO_TEST_CASE(two_units_using_the_library_link_and_agree) {
  constexpr auto x = tl::var<"x">;
  const auto f = tl::d(tl::sin(x) * tl::exp(x), x);
  BOOST_TEST(f(x = 0.3) == derivative_in_unit_b(0.3));
  BOOST_TEST(tl::to_string(f) != "");
}

namespace {

// Also in link_unit_b.cpp, as x + x + x: both print as
// `{anonymous}::scaled_op`, so the two programs' schedules have one key.
struct scaled_op : tl::elementwise_operation {
  static constexpr std::string_view name = "scaled";
  static constexpr auto apply(auto x) { return x + x; }
};

// A product large enough to be a function of its own (a GEMM of at least
// compile/kernels/matmul.hpp's size), with the operation in its epilogue:
// symbols the linker sees, named by the schedule's key.
constexpr std::size_t rows = 96;
constexpr auto A = tl::input<"A", float, rows, rows>;
constexpr auto B = tl::input<"B", float, rows, rows>;

// Every element of scaled_op(A B) for A filled with a and B with ones.
float scaled_product(float a) {
  const auto product = tl::matmul(A, B);
  const auto f = tl::node<scaled_op, std::remove_cvref_t<decltype(product)>>{product};
  auto program = tl::compile(f);
  auto none = tl::parameters_of(f);
  static tl::tensor<float, rows, rows> a_values, ones;
  a_values.fill(a);
  ones.fill(1.f);
  const auto& out = program(none, A = a_values, B = ones);
  // Every element the same: another unit's kernel on part of the data would show.
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i] != out[0]) return -1.f;
  return out[0];
}

}  // namespace

BOOST_AUTO_TEST_CASE(programs_whose_operations_print_alike_in_two_units_each_run_their_own) {
  BOOST_TEST(scaled_product(0.5f) == 96.f);      // 2 * 96 * 0.5
  BOOST_TEST(scaled_in_unit_b(0.5f) == 144.f);   // 3 * 96 * 0.5
}
