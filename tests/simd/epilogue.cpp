#define BOOST_TEST_MODULE simd_gemm_epilogue
#include <boost/test/unit_test.hpp>

#include "support.hpp"

#include <tapeless/simd/gemm.hpp>
#include <tapeless/simd/lanes.hpp>

#include <algorithm>

using namespace simd_test;
namespace simd = tapeless::simd;

namespace {

// Runs gemm with an epilogue that records which elements of C it was given,
// and checks that it saw each exactly once, at the right (row, col).
template <std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB, class Arch>
void check_called_once_per_element() {
  const auto a = random_vector<float>(M * K, 6), b = random_vector<float>(K * N, 7);
  std::vector<float> c(M * N);
  std::vector<int> calls(M * N, 0);
  bool addresses_agree = true;
  simd::gemm<M, K, N, OpA, OpB, Arch>(a.data(), b.data(), c.data(), [&](auto v, auto at) {
    addresses_agree = addresses_agree && at.address == c.data() + at.row * N + at.col;
    for (std::size_t l = 0; l < simd::lanes_of<decltype(v)>; ++l) ++calls[at.row * N + at.col + l];
    return v;
  });
  BOOST_TEST(addresses_agree);
  BOOST_TEST((std::all_of(calls.begin(), calls.end(), [](int n) { return n == 1; })),
             name_of(OpA) << name_of(OpB) << " " << M << "x" << K << "x" << N);
  BOOST_TEST((worst_error<M, K, N, OpA, OpB>(a.data(), b.data(), c.data()) < 1));
}

template <std::size_t M, std::size_t K, std::size_t N, class Arch>
void check_called_once_per_element_all_transposes() {
  check_called_once_per_element<M, K, N, op::none, op::none, Arch>();
  check_called_once_per_element<M, K, N, op::none, op::transpose, Arch>();
  check_called_once_per_element<M, K, N, op::transpose, op::none, Arch>();
  check_called_once_per_element<M, K, N, op::transpose, op::transpose, Arch>();
}

}  // namespace

BOOST_AUTO_TEST_CASE_TEMPLATE(epilogue_is_called_once_per_element_of_c_at_its_row_and_column, Arch, archs) {
  check_called_once_per_element_all_transposes<7, 13, 5, Arch>();
  check_called_once_per_element_all_transposes<33, 65, 17, Arch>();
  check_called_once_per_element_all_transposes<19, 8, 50, Arch>();
}

// Dot products (A B^T with a long k) give the epilogue whole batches of a
// row, as the outer-product tiles do, and scalars only for the columns after
// them: a tile of several rows has its sums scattered over a few columns of
// each, so they are buffered until their group of column blocks is done (a
// scalar call per element made a bias and relu after W2's X W^T cost 12% of
// the product).
BOOST_AUTO_TEST_CASE_TEMPLATE(dot_products_give_the_epilogue_whole_batches, Arch, archs) {
  constexpr std::size_t w = simd::lanes<float, Arch>, M = 21, K = 12 * w, N = 5 * w + 3;
  static_assert(simd::detail::gemm_plan<float, Arch, M, K, N, op::none, op::transpose>::dot_products);
  const auto a = random_vector<float>(M * K, 20), b = random_vector<float>(N * K, 21);
  std::vector<float> c(M * N);
  std::size_t batches = 0, scalars = 0;
  simd::gemm<M, K, N, op::none, op::transpose, Arch>(a.data(), b.data(), c.data(), [&](auto v, auto) {
    ++(simd::lanes_of<decltype(v)> == 1 ? scalars : batches);
    return v;
  });
  BOOST_TEST(batches == M * 5);
  BOOST_TEST(scalars == M * 3);
  BOOST_TEST((worst_error<M, K, N, op::none, op::transpose>(a.data(), b.data(), c.data()) < 1));
}

// relu(X W^T + b): the forward pass of a linear layer in one GEMM.
BOOST_AUTO_TEST_CASE_TEMPLATE(epilogue_adds_a_bias_per_column_and_applies_relu, Arch, archs) {
  constexpr std::size_t M = 13, K = 40, N = 37;
  const auto x = random_vector<float>(M * K, 8), w = random_vector<float>(N * K, 9), bias = random_vector<float>(N, 10);
  std::vector<float> h(M * N), plain(M * N);
  simd::gemm<M, K, N, op::none, op::transpose, Arch>(x.data(), w.data(), plain.data());
  simd::gemm<M, K, N, op::none, op::transpose, Arch>(x.data(), w.data(), h.data(), [&](auto v, auto at) {
    using V = decltype(v);
    return xsimd::max(v + at.load(bias.data() + at.col), V(0.f));
  });
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) BOOST_TEST(h[i * N + j] == std::max(plain[i * N + j] + bias[j], 0.f));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(epilogue_sees_the_row_for_a_bias_per_row, Arch, archs) {
  constexpr std::size_t M = 11, K = 9, N = 21;
  const auto a = random_vector<float>(M * K, 11), b = random_vector<float>(K * N, 12), bias = random_vector<float>(M, 13);
  std::vector<float> c(M * N), plain(M * N);
  simd::gemm<M, K, N, op::transpose, op::none, Arch>(a.data(), b.data(), plain.data());
  simd::gemm<M, K, N, op::transpose, op::none, Arch>(a.data(), b.data(), c.data(),
                                                     [&](auto v, auto at) { return v + bias[at.row]; });
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) BOOST_TEST(c[i * N + j] == plain[i * N + j] + bias[i]);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(accumulate_epilogue_adds_the_product_to_c, Arch, archs) {
  constexpr std::size_t M = 17, K = 33, N = 19;
  const auto a = random_vector<float>(M * K, 14), b = random_vector<float>(N * K, 15);
  const auto c0 = random_vector<float>(M * N, 16);
  std::vector<float> c = c0, product(M * N);
  simd::gemm<M, K, N, op::none, op::transpose, Arch>(a.data(), b.data(), product.data());
  simd::gemm<M, K, N, op::none, op::transpose, Arch>(a.data(), b.data(), c.data(), simd::epilogue::accumulate{});
  for (std::size_t i = 0; i < M * N; ++i) BOOST_TEST(c[i] == c0[i] + product[i]);
}

// The fused SGD step: the weight gradient G = dY^T X is never stored; the
// epilogue writes W - lr * G straight into W.
BOOST_AUTO_TEST_CASE_TEMPLATE(epilogue_applies_an_sgd_update_to_the_weights_in_place, Arch, archs) {
  constexpr std::size_t batch = 64, in = 45, out = 30;
  const auto x = random_vector<float>(batch * in, 17), dy = random_vector<float>(batch * out, 18);
  const auto w0 = random_vector<float>(out * in, 19);
  const float lr = 0.05f;
  std::vector<float> w = w0, g(out * in);
  simd::gemm<out, batch, in, op::transpose, op::none, Arch>(dy.data(), x.data(), g.data());
  simd::gemm<out, batch, in, op::transpose, op::none, Arch>(dy.data(), x.data(), w.data(),
                                                            [&](auto grad, auto at) { return at.c() - lr * grad; });
  // Within rounding: the compiler may contract w0 - lr * g into one FMA on one side only.
  for (std::size_t i = 0; i < out * in; ++i) BOOST_TEST(w[i] == w0[i] - lr * g[i], boost::test_tools::tolerance(1e-5f));
}
