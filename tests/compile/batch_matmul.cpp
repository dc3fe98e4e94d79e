// tl::batch_matmul against torch.bmm (tests/reference/batch_matmul.py):
// products and both operands' gradients with odd sizes in float64, with
// either operand, both or neither read transposed in place, and two products
// chained; central differences as a second check; a transposed operand costs
// no kernel of its own; stepping allocates nothing.
#define BOOST_TEST_MODULE compile_batch_matmul
#include "compile/support.hpp"
#include "counting_allocator.hpp"

#include <cstddef>
#include <type_traits>

#include "reference/batch_matmul.inc"

namespace tl = tapeless;

namespace {

constexpr std::size_t B = reference::B, M = reference::M, K = reference::K, N = reference::N,
                      P = reference::P;
constexpr double tolerance = 1e-12;  // float64: only the order of sums differs from PyTorch
constexpr double fd_step = 1e-6, fd_tolerance = 1e-7;

// The product, the loss sum(product * V), both gradients and central
// differences, for operands "L" and "R" stored as the reference stores them.
template <class Product, class Case>
void check_against_pytorch(const Product& product, Case) {
  using S = tl::shape_of<Product>;
  constexpr auto V = tl::input<"V", double, S::dims[0], S::dims[1], S::dims[2]>;
  const auto loss = tl::sum(product * V);
  auto params = tl::parameters_of(loss);
  test::fill(params.template get<"L">(), Case::left);
  test::fill(params.template get<"R">(), Case::right);
  tl::tensor<double, S::dims[0], S::dims[1], S::dims[2]> weights;
  test::fill(weights, Case::V);

  auto forward = tl::compile(product);
  test::check_close("product", forward(params), Case::product, tolerance);

  auto program = tl::compile(loss);
  program.step(params, V = weights);  // the first step may set up what it keeps
  const std::size_t before = allocations.load();
  test::check_close("loss", program.step(params, V = weights), Case::loss, tolerance);
  BOOST_TEST(allocations.load() == before);
  test::check_close("grad L", params.template grad<"L">(), Case::grad_left, tolerance);
  test::check_close("grad R", params.template grad<"R">(), Case::grad_right, tolerance);
  auto copy = params;
  test::check_finite_differences(program, copy, fd_step, fd_tolerance, V = weights);
}

#define TAPELESS_TEST_CASE_VALUES(ns)                                 \
  struct ns##_values {                                                \
    static constexpr const auto& left = reference::ns::left;          \
    static constexpr const auto& right = reference::ns::right;        \
    static constexpr const auto& V = reference::ns::V;                \
    static constexpr const auto& product = reference::ns::product;    \
    static constexpr double loss = reference::ns::loss;               \
    static constexpr const auto& grad_left = reference::ns::grad_left; \
    static constexpr const auto& grad_right = reference::ns::grad_right; \
  }

TAPELESS_TEST_CASE_VALUES(plain);
TAPELESS_TEST_CASE_VALUES(right_transposed);
TAPELESS_TEST_CASE_VALUES(left_transposed);
TAPELESS_TEST_CASE_VALUES(both_transposed);
TAPELESS_TEST_CASE_VALUES(chained);

}  // namespace

BOOST_AUTO_TEST_CASE(batch_matmul_and_its_gradients_match_torch_bmm) {
  constexpr auto L = tl::param<"L", double, B, M, K>;
  constexpr auto R = tl::param<"R", double, B, K, N>;
  constexpr auto product = tl::batch_matmul(L, R);
  static_assert(std::is_same_v<tl::shape_of<decltype(product)>, tl::shape<B, M, N>>);
  check_against_pytorch(product, plain_values{});
}

BOOST_AUTO_TEST_CASE(batch_matmul_reads_a_transposed_right_operand_in_place) {
  constexpr auto L = tl::param<"L", double, B, M, K>;
  constexpr auto R = tl::param<"R", double, B, N, K>;
  constexpr auto product = tl::batch_matmul(L, tl::batch_transpose(R));
  check_against_pytorch(product, right_transposed_values{});
  // The transpose is a view: the same kernels as the product of untransposed operands.
  constexpr auto Rn = tl::param<"R", double, B, K, N>;
  static_assert(decltype(tl::compile(product))::forward_kernels ==
                decltype(tl::compile(tl::batch_matmul(L, Rn)))::forward_kernels);
}

BOOST_AUTO_TEST_CASE(batch_matmul_reads_a_transposed_left_operand_in_place) {
  constexpr auto L = tl::param<"L", double, B, K, M>;
  constexpr auto R = tl::param<"R", double, B, K, N>;
  check_against_pytorch(tl::batch_matmul(tl::batch_transpose(L), R), left_transposed_values{});
}

BOOST_AUTO_TEST_CASE(batch_matmul_reads_both_operands_transposed_in_place) {
  constexpr auto L = tl::param<"L", double, B, K, M>;
  constexpr auto R = tl::param<"R", double, B, N, K>;
  check_against_pytorch(tl::batch_matmul(tl::batch_transpose(L), tl::batch_transpose(R)),
                        both_transposed_values{});
}

BOOST_AUTO_TEST_CASE(chained_batch_matmuls_match_torch_bmm) {
  constexpr auto L = tl::param<"L", double, B, M, K>;
  constexpr auto R = tl::param<"R", double, B, K, N>;
  constexpr auto C = tl::input<"C", double, B, P, N>;
  tl::tensor<double, B, P, N> c;
  test::fill(c, reference::chained_C);
  // C is an input: bound through a product that closes over it.
  constexpr auto product = tl::batch_matmul(tl::batch_matmul(L, R), tl::batch_transpose(C));
  constexpr auto V = tl::input<"V", double, B, M, P>;
  const auto loss = tl::sum(product * V);
  auto params = tl::parameters_of(loss);
  test::fill(params.get<"L">(), reference::chained::left);
  test::fill(params.get<"R">(), reference::chained::right);
  tl::tensor<double, B, M, P> weights;
  test::fill(weights, reference::chained::V);
  auto forward = tl::compile(product);
  test::check_close("product", forward(params, C = c), reference::chained::product, tolerance);
  auto program = tl::compile(loss);
  test::check_close("loss", program.step(params, V = weights, C = c), reference::chained::loss, tolerance);
  test::check_close("grad L", params.grad<"L">(), reference::chained::grad_left, tolerance);
  test::check_close("grad R", params.grad<"R">(), reference::chained::grad_right, tolerance);
  test::check_finite_differences(program, params, fd_step, fd_tolerance, V = weights, C = c);
}

BOOST_AUTO_TEST_CASE(batch_transpose_of_a_product_swaps_and_transposes_its_operands) {
  constexpr auto L = tl::param<"L", double, B, M, K>;
  constexpr auto R = tl::param<"R", double, B, K, N>;
  constexpr auto t = tl::batch_transpose(tl::batch_matmul(L, R));
  static_assert(std::is_same_v<std::remove_cv_t<decltype(t)>,
                               std::remove_cv_t<decltype(tl::batch_matmul(tl::batch_transpose(R),
                                                                          tl::batch_transpose(L)))>>);
  static_assert(std::is_same_v<std::remove_cv_t<decltype(tl::batch_transpose(tl::batch_transpose(L)))>,
                               std::remove_cv_t<decltype(L)>>);
  BOOST_TEST(tl::to_string(t) == tl::to_string(tl::batch_matmul(tl::batch_transpose(R), tl::batch_transpose(L))));
}
