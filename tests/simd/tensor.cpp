#define BOOST_TEST_MODULE simd_tensor
#include <boost/test/unit_test.hpp>

#include <tapeless/core/tensor.hpp>
#include <tapeless/simd/gemm.hpp>

#include <cstdint>
#include <memory>
#include <numeric>
#include <type_traits>

namespace tl = tapeless;

static_assert(std::is_same_v<tl::tensor<float, 64, 784>::shape_type, tl::shape<64, 784>>);
static_assert(tl::tensor<float, 64, 784>::size() == 64 * 784);
static_assert(tl::tensor<float, 64, 784>::rank == 2);
static_assert(tl::tensor<double>::size() == 1 && tl::tensor<double>::rank == 0);
static_assert(sizeof(tl::tensor<float, 64, 784>) == 64 * 784 * sizeof(float), "no storage besides the elements");
static_assert(alignof(tl::tensor<float, 3>) == 64);
static_assert(std::is_trivially_copyable_v<tl::tensor<float, 4, 4>>);
static_assert(tl::any_tensor<tl::tensor<int, 2>> && !tl::any_tensor<float>);

BOOST_AUTO_TEST_CASE(tensor_indexes_row_major) {
  tl::tensor<int, 2, 3, 4> t{};
  std::iota(t.begin(), t.end(), 0);
  BOOST_TEST(t(0, 0, 0) == 0);
  BOOST_TEST(t(0, 0, 3) == 3);
  BOOST_TEST(t(0, 2, 1) == 9);
  BOOST_TEST(t(1, 2, 3) == 23);
  BOOST_TEST(&t(1, 0, 0) == t.data() + 12);
  BOOST_TEST(t[17] == 17);
  BOOST_TEST(t.extent(1) == 3u);
}

BOOST_AUTO_TEST_CASE(tensor_is_aligned_to_64_bytes_on_the_stack_and_the_heap) {
  tl::tensor<float, 7> a;
  tl::tensor<double, 3, 5> b;
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0u);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(b.data()) % 64 == 0u);
  // A large one, allocated once as the documentation advises.
  auto big = std::make_unique<tl::tensor<float, 256, 784>>();
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(big->data()) % 64 == 0u);
  BOOST_TEST((*big)(255, 783) == 0.f);  // make_unique value-initializes: zeros
}

BOOST_AUTO_TEST_CASE(tensor_value_initialization_zeroes_and_fill_sets_every_element) {
  tl::tensor<float, 5, 6> t{};
  for (float v : t) BOOST_TEST(v == 0.f);
  t.fill(2.5f);
  for (float v : t) BOOST_TEST(v == 2.5f);
  tl::tensor<float, 5, 6> u = t;
  BOOST_TEST((u == t));
  u(4, 5) = 1.f;
  BOOST_TEST(!(u == t));
}

BOOST_AUTO_TEST_CASE(rank_zero_tensor_holds_one_value) {
  tl::tensor<double> s{};
  s() = 3.5;
  BOOST_TEST(s() == 3.5);
  BOOST_TEST(*s.data() == 3.5);
  BOOST_TEST(s.end() - s.begin() == 1);
}

BOOST_AUTO_TEST_CASE(tensor_is_usable_in_constant_expressions) {
  constexpr auto t = [] {
    tl::tensor<int, 2, 2> m{};
    m(1, 0) = 7;
    return m;
  }();
  static_assert(t(1, 0) == 7 && t(0, 1) == 0);
  BOOST_TEST(t[2] == 7);
}

BOOST_AUTO_TEST_CASE(tensors_feed_gemm_directly) {
  tl::tensor<float, 2, 3> a{};
  tl::tensor<float, 4, 3> w{};  // [out, in], read transposed
  tl::tensor<float, 2, 4> y{};
  std::iota(a.begin(), a.end(), 1.f);
  std::iota(w.begin(), w.end(), 0.f);
  tl::simd::gemm<2, 3, 4, tl::simd::op::none, tl::simd::op::transpose>(a.data(), w.data(), y.data());
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 4; ++j) {
      float expected = 0;
      for (std::size_t k = 0; k < 3; ++k) expected += a(i, k) * w(j, k);
      BOOST_TEST(y(i, j) == expected);
    }
}
