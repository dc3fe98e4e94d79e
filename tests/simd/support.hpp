#pragma once
// Shared by the simd tests: the instruction sets to test, random data, and a
// naive double-precision GEMM to check against. Include it after
// <boost/test/unit_test.hpp>.

#include <tapeless/simd/gemm.hpp>

#include <xsimd/xsimd.hpp>

#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace simd_test {

using tapeless::simd::op;

// The default instruction set (what the build flags enable), and AVX2 with
// FMA too when the build enables more than that (the -march=native build on
// an AVX-512 machine): each kernel is instantiated for both.
template <bool AlsoAvx2>
struct arch_list_for {
  using type = std::tuple<xsimd::default_arch>;
};
template <>
struct arch_list_for<true> {
  using type = std::tuple<xsimd::default_arch, xsimd::fma3<xsimd::avx2>>;
};
using archs = typename arch_list_for<(xsimd::fma3<xsimd::avx2>::supported() &&
                                      xsimd::default_arch::version() > xsimd::fma3<xsimd::avx2>::version())>::type;

template <class T>
std::vector<T> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

// op(A)(i, k) and op(B)(k, j) for row-major A and B as gemm reads them.
template <std::size_t M, std::size_t K, op OpA, class T>
T a_at(const T* a, std::size_t i, std::size_t k) {
  return OpA == op::none ? a[i * K + k] : a[k * M + i];
}
template <std::size_t K, std::size_t N, op OpB, class T>
T b_at(const T* b, std::size_t k, std::size_t j) {
  return OpB == op::none ? b[k * N + j] : b[j * K + k];
}

// The worst error of c against op(A) op(B) computed in double, as a multiple
// of the rounding bound K * eps * sum_k |a_ik b_kj| (a correct kernel stays
// well below 1; a wrong element gives about 1 / eps).
template <std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB, class T>
double worst_error(const T* a, const T* b, const T* c) {
  double worst = 0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double exact = 0, magnitude = 0;
      for (std::size_t k = 0; k < K; ++k) {
        const double p = double(a_at<M, K, OpA>(a, i, k)) * double(b_at<K, N, OpB>(b, k, j));
        exact += p;
        magnitude += std::fabs(p);
      }
      const double bound = double(K) * std::numeric_limits<T>::epsilon() * magnitude + std::numeric_limits<T>::min();
      const double e = std::fabs(double(c[i * N + j]) - exact) / bound;
      worst = e > worst ? e : worst;
    }
  return worst;
}

// Runs gemm<M, K, N, OpA, OpB, Arch> on random data and returns worst_error.
template <std::size_t M, std::size_t K, std::size_t N, op OpA, op OpB, class Arch, class T = float>
double gemm_error() {
  const auto a = random_vector<T>(M * K, 1 + M), b = random_vector<T>(K * N, 2 + N);
  auto c = random_vector<T>(M * N, 3);  // overwritten: nothing of it may survive
  tapeless::simd::gemm<M, K, N, OpA, OpB, Arch>(a.data(), b.data(), c.data());
  return worst_error<M, K, N, OpA, OpB>(a.data(), b.data(), c.data());
}

inline std::string name_of(op o) { return o == op::none ? "N" : "T"; }

// All four ways of reading A and B, on one shape, against the double reference.
template <std::size_t M, std::size_t K, std::size_t N, class Arch, class T = float>
void check_all_transposes() {
  const auto shape = std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N) + " on " + Arch::name();
  BOOST_TEST((gemm_error<M, K, N, op::none, op::none, Arch, T>() < 1), "NN " << shape);
  BOOST_TEST((gemm_error<M, K, N, op::none, op::transpose, Arch, T>() < 1), "NT " << shape);
  BOOST_TEST((gemm_error<M, K, N, op::transpose, op::none, Arch, T>() < 1), "TN " << shape);
  BOOST_TEST((gemm_error<M, K, N, op::transpose, op::transpose, Arch, T>() < 1), "TT " << shape);
}

}  // namespace simd_test
