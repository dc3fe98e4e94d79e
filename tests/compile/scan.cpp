// scan: one step of a recurrence applied along a sequence, compiled once;
// its derivative a reverse scan. Values against a loop written out here,
// gradients against central differences (the layers built on scan are
// checked against PyTorch in tests/nn/recurrent.cpp).
#define BOOST_TEST_MODULE compile_scan
#include "support.hpp"

#include <cmath>
#include <cstddef>

namespace tl = tapeless;

namespace {

constexpr std::size_t N = 2, T = 5, F = 3, H = 4;
constexpr auto h = tl::input<"h", double, N, H>;  // the carry
constexpr auto x = tl::input<"x", double, N, F>;  // one step's input
constexpr auto W = tl::param<"W", double, H, F>;
constexpr auto U = tl::param<"U", double, H, H>;
constexpr auto b = tl::param<"b", double, H>;
constexpr auto step = tl::tanh(tl::matmul(x, tl::transpose(W)) + tl::matmul(h, tl::transpose(U)) + b);
constexpr auto X = tl::input<"X", double, N, T, F>;

template <class Store>
void fill_params(Store& params) {
  std::size_t k = 0;
  params.visit([&](std::string_view, auto& value, auto&) {
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = 0.3 * std::sin(1.7 * double(++k));
  });
}

tl::tensor<double, N, T, F> sequence() {
  tl::tensor<double, N, T, F> s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = std::cos(0.9 * double(i));
  return s;
}

// The recurrence written out: every carry, [N, T, H].
template <class Store>
std::vector<double> carries_by_hand(const Store& params, const tl::tensor<double, N, T, F>& xs,
                                    const double* initial = nullptr) {
  const auto& w = params.template get<"W">();
  const auto& u = params.template get<"U">();
  const auto& bias = params.template get<"b">();
  std::vector<double> out(N * T * H);
  for (std::size_t n = 0; n < N; ++n) {
    std::vector<double> carry(H, 0.0);
    if (initial)
      for (std::size_t j = 0; j < H; ++j) carry[j] = initial[n * H + j];
    for (std::size_t t = 0; t < T; ++t) {
      std::vector<double> next(H);
      for (std::size_t j = 0; j < H; ++j) {
        double a = bias[j];
        for (std::size_t f = 0; f < F; ++f) a += xs[(n * T + t) * F + f] * w[j * F + f];
        for (std::size_t k = 0; k < H; ++k) a += carry[k] * u[j * H + k];
        next[j] = std::tanh(a);
      }
      carry = next;
      for (std::size_t j = 0; j < H; ++j) out[(n * T + t) * H + j] = carry[j];
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(scan_computes_every_carry_of_the_recurrence) {
  constexpr auto hs = tl::scan(step, h, x, X);
  static_assert(std::is_same_v<tl::shape_of<decltype(hs)>, tl::shape<N, T, H>>);
  auto params = tl::parameters_of(hs);
  fill_params(params);
  auto program = tl::compile(hs);
  const auto xs = sequence();
  const auto& out = program(params, X = xs);
  const auto expected = carries_by_hand(params, xs);
  for (std::size_t i = 0; i < out.size(); ++i) BOOST_TEST(out[i] == expected[i], boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(scan_exposes_the_params_of_its_body) {
  constexpr auto hs = tl::scan(step, h, x, X);
  auto params = tl::parameters_of(hs);
  std::vector<std::string> names;
  params.visit([&](std::string_view name, auto&, auto&) { names.emplace_back(name); });
  BOOST_TEST(names.size() == 3u);
  BOOST_TEST((std::find(names.begin(), names.end(), "U") != names.end()));
}

BOOST_AUTO_TEST_CASE(scan_gradients_match_central_differences) {
  constexpr auto hs = tl::scan(step, h, x, X);
  // A loss that weighs every step's carry differently.
  constexpr auto loss = tl::sum(tl::square(hs) * tl::param<"V", double, T, H>);
  auto params = tl::parameters_of(loss);
  fill_params(params);
  auto program = tl::compile(loss);
  const auto xs = sequence();
  test::check_finite_differences(program, params, 1e-6, 1e-7, X = xs);
}

BOOST_AUTO_TEST_CASE(scan_gradient_reaches_the_sequence_and_the_initial_carry) {
  // The sequence and the initial carry are computed from params, so their
  // gradients show in the params'.
  constexpr auto A = tl::param<"A", double, N, T, F>;
  constexpr auto h0 = tl::param<"h0", double, N, H>;
  constexpr auto hs = tl::scan(step, h, x, tl::sin(A), h0);
  constexpr auto loss = tl::sum(tl::square(hs) * tl::param<"V", double, T, H>);
  auto params = tl::parameters_of(loss);
  fill_params(params);
  auto program = tl::compile(loss);
  test::check_finite_differences(program, params, 1e-6, 1e-7);
}

BOOST_AUTO_TEST_CASE(scan_with_batch_one_reads_its_slices_in_place) {
  constexpr auto h1 = tl::input<"h", double, 1, H>;
  constexpr auto x1 = tl::input<"x", double, 1, F>;
  constexpr auto one = tl::tanh(tl::matmul(x1, tl::transpose(W)) + tl::matmul(h1, tl::transpose(U)) + b);
  constexpr auto A = tl::param<"A", double, 1, T, F>;
  constexpr auto loss = tl::sum(tl::square(tl::scan(one, h1, x1, tl::sin(A))) * tl::param<"V", double, T, H>);
  auto params = tl::parameters_of(loss);
  fill_params(params);
  auto program = tl::compile(loss);
  test::check_finite_differences(program, params, 1e-6, 1e-7);
}

BOOST_AUTO_TEST_CASE(scan_prints_its_sequence_and_params) {
  BOOST_TEST(tl::to_string(tl::scan(step, h, x, X)) == "scan(X, W, U, b)");
}

namespace {

// The carries and every gradient of two losses over the same params.
template <class LossA, class LossB>
void check_same_steps(const LossA& a, const LossB& b) {
  auto pa = tl::parameters_of(a);
  auto pb = tl::parameters_of(b);
  fill_params(pa);
  fill_params(pb);
  auto program_a = tl::compile(a);
  auto program_b = tl::compile(b);
  BOOST_TEST(program_a.step(pa) == program_b.step(pb), boost::test_tools::tolerance(1e-12));
  std::size_t compared = 0;
  pa.visit([&](std::string_view name, const auto&, const auto& grad_a) {
    pb.visit([&](std::string_view other, const auto&, const auto& grad_b) {
      if (name != other) return;
      ++compared;
      for (std::size_t i = 0; i < grad_a.size(); ++i)
        BOOST_TEST(grad_a[i] == grad_b[i], std::string(name) << "[" << i << "]" << boost::test_tools::tolerance(1e-12));
    });
  });
  BOOST_TEST(compared == 5u);
  test::check_finite_differences(program_b, pb, 1e-6, 1e-7);
}

}  // namespace

BOOST_AUTO_TEST_CASE(scan_time_major_steps_as_the_batch_first_scan_in_time_order) {
  constexpr auto A = tl::param<"A", double, N, T, F>;
  constexpr auto V = tl::param<"V", double, T, N, H>;
  constexpr auto batch_first = tl::scan(step, h, x, tl::sin(A));
  constexpr auto time_major = tl::scan_time_major(step, h, x, tl::permute<1, 0, 2>(tl::sin(A)));
  static_assert(std::is_same_v<tl::shape_of<decltype(time_major)>, tl::shape<T, N, H>>);
  check_same_steps(tl::sum(tl::square(tl::permute<1, 0, 2>(batch_first)) * V), tl::sum(tl::square(time_major) * V));
}

BOOST_AUTO_TEST_CASE(scan_with_one_product_saves_it_for_its_gradient_in_either_layout) {
  // One matrix product in the body (a recurrent layer's h U^T): the forward
  // scan keeps it for the reverse scan, in both layouts.
  constexpr auto xh = tl::input<"x", double, N, H>;
  constexpr auto one = tl::tanh(xh + tl::matmul(h, tl::transpose(U)) + b);
  constexpr auto A = tl::param<"A", double, N, T, H>;
  constexpr auto V = tl::param<"V", double, T, N, H>;
  constexpr auto W2 = tl::param<"W", double, H, H>;  // read outside the scan: five params as above
  constexpr auto inputs = tl::sin(A) * tl::sum(W2);
  constexpr auto batch_first = tl::scan(one, h, xh, inputs);
  constexpr auto time_major = tl::scan_time_major(one, h, xh, tl::permute<1, 0, 2>(inputs));
  static_assert(tl::detail::scan_body<typename decltype(batch_first)::operation, double>::saves_product &&
                tl::detail::scan_body<typename decltype(time_major)::operation, double>::saves_product);
  static_assert(!tl::detail::scan_body<typename decltype(tl::scan(step, h, x, X))::operation, double>::saves_product,
                "two products: computed again in the reverse scan");
  check_same_steps(tl::sum(tl::square(tl::permute<1, 0, 2>(batch_first)) * V), tl::sum(tl::square(time_major) * V));
}
