// Threads inside a step (core/thread_pool.hpp, simd::gemm_share, a program's
// use_threads): the pool runs every share once per call; GEMM shares together
// write what one GEMM writes, bit for bit, for every kernel variant; a
// training program lent a pool of 2 or 3 threads computes the same losses and
// weights, bit for bit, as on one thread (a W2-sized MLP with SGD's update
// fused into its GEMMs, Adam, an LSTM whose step GEMMs are large enough to
// split, a CNN whose convolutions split their images), and allocates nothing
// while stepping. The CNN's weight gradients, summed in shares of the batch,
// agree with the whole batch's kernel.
#define BOOST_TEST_MODULE compile_threads
#include "../counting_allocator.hpp"
#include "support.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include <tapeless/simd/conv2d.hpp>

namespace tl = tapeless;
namespace simd = tapeless::simd;

namespace {

float wave(std::size_t i, float scale = 0.1f) { return scale * std::sin(0.37f * float(i) + 0.11f); }

template <class Tensor>
void fill_wave(Tensor& t, std::size_t salt, float scale = 0.1f) {
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = wave(i * 131 + salt, scale);
}

template <class Store>
void fill_store(Store& params, float scale) {
  std::size_t salt = 0;
  params.visit([&](std::string_view, auto& value, auto&) { fill_wave(value, ++salt * 7919, scale); });
}

template <class Store>
bool same_values(const Store& a, const Store& b) {
  bool same = true;
  a.visit([&](std::string_view name, const auto& value, const auto&) {
    b.visit([&](std::string_view other, const auto& theirs, const auto&) {
      if (name == other) same = same && std::memcmp(value.data(), theirs.data(), value.size() * sizeof(value[0])) == 0;
    });
  });
  return same;
}

// C = op(A) op(B), every share of `parts` run in turn on this thread, against simd::gemm.
template <std::size_t M, std::size_t K, std::size_t N, simd::op OpA, simd::op OpB>
void check_shares(std::size_t parts) {
  std::vector<float> a(M * K), b(K * N), whole(M * N), shared(M * N, -1.0f), column_bias(N);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = wave(i);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = wave(i + 1000);
  for (std::size_t j = 0; j < N; ++j) column_bias[j] = float(j) * 0.5f;
  const auto bias = [&](auto v, auto at) { return v + at.load(column_bias.data() + at.col); };
  simd::gemm<M, K, N, OpA, OpB>(a.data(), b.data(), whole.data(), bias);
  for (std::size_t part = 0; part < parts; ++part)
    simd::gemm_share<M, K, N, OpA, OpB>(a.data(), b.data(), shared.data(), bias, part, parts);
  BOOST_TEST(std::memcmp(whole.data(), shared.data(), whole.size() * sizeof(float)) == 0,
             M << "x" << K << "x" << N << " in " << parts << " shares differs from one GEMM");
  // And one GEMM is right: a naive product in double.
  double worst = 0;
  for (std::size_t i = 0; i < M; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      double s = double(j) * 0.5;
      for (std::size_t k = 0; k < K; ++k)
        s += double(OpA == simd::op::none ? a[i * K + k] : a[k * M + i]) *
             double(OpB == simd::op::none ? b[k * N + j] : b[j * K + k]);
      worst = std::max(worst, std::abs(s - double(whole[i * N + j])));
    }
  BOOST_TEST(worst < 1e-3, M << "x" << K << "x" << N << ": off the naive product by " << worst);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_pool_runs_every_share_once_per_call) {
  for (std::size_t threads : {1, 2, 3}) {
    tl::thread_pool pool(threads);
    BOOST_TEST(pool.size() == threads);
    std::vector<std::atomic<int>> runs(threads);
    std::atomic<std::size_t> parts_seen{0};
    auto task = [&](std::size_t part, std::size_t parts) noexcept {
      runs[part].fetch_add(1);
      parts_seen.store(parts);
    };
    for (int call = 0; call < 2000; ++call) pool.run(task);
    for (std::size_t part = 0; part < threads; ++part) BOOST_TEST(runs[part].load() == 2000);
    BOOST_TEST(parts_seen.load() == threads);
  }
  BOOST_CHECK_THROW(tl::thread_pool(0), std::invalid_argument);
}

// Polls f for up to two seconds.
template <class F>
bool eventually(F f) {
  for (int i = 0; i < 2000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return f();
}

BOOST_AUTO_TEST_CASE(a_pool_held_awake_spins_through_gaps_and_sleeps_after) {
  tl::thread_pool pool(2);
  std::atomic<int> runs{0};
  auto task = [&](std::size_t, std::size_t) noexcept { runs.fetch_add(1); };
  // Left alone after a run, the worker spins a while and then sleeps.
  const std::uint64_t at_start = pool.worker_sleeps();
  pool.run(task);
  BOOST_TEST(eventually([&] { return pool.worker_sleeps() > at_start; }));
  // Held awake (as a program's call holds it), a gap far longer than the spin: no sleep.
  pool.stay_awake();
  pool.run(task);
  const std::uint64_t held = pool.worker_sleeps();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pool.run(task);
  BOOST_TEST(pool.worker_sleeps() == held);
  // Let go, it sleeps again.
  pool.may_sleep();
  BOOST_TEST(eventually([&] { return pool.worker_sleeps() > held; }));
  pool.run(task);
  BOOST_TEST(runs.load() == 2 * 4);
}

BOOST_AUTO_TEST_CASE(gemm_shares_write_what_one_gemm_writes) {
  // Shares of these weight gradients run their row tiles outside (one GEMM, column blocks outside).
  BOOST_TEST((simd::detail::gemm_variant<102, 40, 70, simd::op::transpose, simd::op::none, xsimd::default_arch,
                                         float>::kernel::row_tiles_outside));
  BOOST_TEST((simd::detail::gemm_variant<256, 64, 784, simd::op::transpose, simd::op::none, xsimd::default_arch,
                                         float>::kernel::row_tiles_outside));
  for (std::size_t parts : {1, 2, 3, 5}) {
    check_shares<64, 784, 256, simd::op::none, simd::op::transpose>(parts);  // dot products (forward)
    check_shares<64, 256, 128, simd::op::none, simd::op::transpose>(parts);  // B^T packed in long panels (AVX-512)
    check_shares<64, 256, 784, simd::op::none, simd::op::none>(parts);       // outer products (input gradient)
    check_shares<256, 64, 784, simd::op::transpose, simd::op::none>(parts);  // A read transposed (weight gradient)
    check_shares<100, 24, 70, simd::op::transpose, simd::op::none>(parts);   // by rows, with rest rows and columns
    check_shares<102, 40, 70, simd::op::transpose, simd::op::none>(parts);   // the same, each row tile over every column
    check_shares<37, 29, 83, simd::op::transpose, simd::op::transpose>(parts);  // C written transposed
    check_shares<48, 16, 96, simd::op::none, simd::op::transpose>(parts);    // B^T packed on the stack
    check_shares<13, 7, 5, simd::op::none, simd::op::none>(parts);           // fewer blocks than shares
  }
}

namespace w2 {
constexpr auto X = tl::input<"X", float, 64, 784>;
constexpr auto Y = tl::input<"Y", std::int32_t, 64>;
constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", 256>(X));
constexpr auto h2 = tl::relu(tl::nn::linear<"fc2", 128>(h1));
constexpr auto loss = tl::cross_entropy(tl::nn::linear<"fc3", 10>(h2), Y);
}  // namespace w2

// Steps a training program of `loss` under `rule` on one thread, then on 2
// and 3 threads from the same start: the same losses and weights bit for
// bit, nothing allocated while stepping, and it trains.
template <class Loss, class Rule, class... Bindings>
void check_steps_with_threads(const Loss& loss, Rule rule, float scale, std::size_t steps,
                              const Bindings&... bindings) {
  auto one = tl::compile(loss, rule);
  auto params_one = tl::parameters_of(loss);
  fill_store(params_one, scale);
  std::vector<float> losses_one(steps);
  for (float& l : losses_one) l = one.step(params_one, bindings...);
  BOOST_TEST(std::isfinite(losses_one.back()));
  BOOST_TEST(losses_one.back() < losses_one.front());  // it trains

  for (std::size_t threads : {2, 3}) {
    tl::thread_pool pool(threads);
    auto many = tl::compile(loss, rule);
    many.use_threads(&pool);
    auto params = tl::parameters_of(loss);
    fill_store(params, scale);
    std::vector<float> losses(steps);
    const std::size_t before = allocations.load();
    for (float& l : losses) l = many.step(params, bindings...);
    BOOST_TEST(allocations.load() == before, "a step with " << threads << " threads allocated");
    for (std::size_t s = 0; s < steps; ++s)
      BOOST_TEST(std::memcmp(&losses[s], &losses_one[s], sizeof(float)) == 0,
                 "loss of step " << s << " with " << threads << " threads: " << losses[s] << ", one thread: "
                                 << losses_one[s]);
    BOOST_TEST(same_values(params, params_one),
               "weights after " << steps << " steps with " << threads << " threads differ");
  }
}

template <class Rule>
void check_w2_with_threads(Rule rule) {
  tl::tensor<float, 64, 784> x;
  tl::tensor<std::int32_t, 64> y;
  fill_wave(x, 1, 0.5f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::int32_t((i * 7) % 10);
  check_steps_with_threads(w2::loss, rule, 0.02f, 4, w2::X = x, w2::Y = y);
}

BOOST_AUTO_TEST_CASE(a_w2_step_with_fused_sgd_on_threads_equals_one_thread) {
  check_w2_with_threads(tl::optim::sgd{.lr = 0.01f, .momentum = 0.9f});
}

BOOST_AUTO_TEST_CASE(a_w2_step_with_adam_on_threads_equals_one_thread) {
  check_w2_with_threads(tl::optim::adam{.lr = 1e-3f});
}

BOOST_AUTO_TEST_CASE(an_lstm_step_on_threads_equals_one_thread) {
  // Each time step's gate product is 32 x 64 x 256: split in shares.
  constexpr auto X = tl::input<"X", float, 32, 3, 16>;
  constexpr auto T = tl::input<"T", float, 32, 3, 64>;
  constexpr auto loss = tl::mse(tl::nn::lstm<"lstm", 64>(X), T);
  tl::tensor<float, 32, 3, 16> x;
  tl::tensor<float, 32, 3, 64> t;
  fill_wave(x, 3, 1.0f);
  fill_wave(t, 5, 0.5f);

  auto one = tl::compile(loss);
  auto params_one = tl::parameters_of(loss);
  fill_store(params_one, 0.1f);
  const float loss_one = one.step(params_one, X = x, T = t);

  tl::thread_pool pool(2);
  auto two = tl::compile(loss);
  two.use_threads(&pool);
  auto params = tl::parameters_of(loss);
  fill_store(params, 0.1f);
  const float loss_two = two.step(params, X = x, T = t);
  BOOST_TEST(std::memcmp(&loss_one, &loss_two, sizeof(float)) == 0, loss_two << " against " << loss_one);
  bool same = true;
  params.visit([&](std::string_view name, const auto&, const auto& grad) {
    params_one.visit([&](std::string_view other, const auto&, const auto& theirs) {
      if (name == other) same = same && std::memcmp(grad.data(), theirs.data(), grad.size() * sizeof(float)) == 0;
    });
  });
  BOOST_TEST(same, "the LSTM's gradients with 2 threads differ from one thread's");
  BOOST_TEST(std::isfinite(loss_one));
}

namespace cnn {
// Large enough that every convolution pass splits: conv1 0.5M and conv2 1.3M
// multiply-adds per pass (3 and 4 image shares; weight gradients summed in 2
// and 4 shares of the batch).
constexpr auto X = tl::input<"X", float, 8, 3, 12, 12>;
constexpr auto Y = tl::input<"Y", std::int32_t, 8>;
constexpr tl::nn::conv_options same{.padding = 1};
constexpr auto h1 = tl::max_pool2d<2>(tl::relu(tl::nn::conv2d<"conv1", 16, 3, same>(X)));  // [8, 16, 6, 6]
constexpr auto h2 = tl::relu(tl::nn::conv2d<"conv2", 32, 3, same>(h1));                     // [8, 32, 6, 6]
constexpr auto logits = tl::nn::linear<"fc", 10>(tl::flatten(h2));
constexpr auto loss = tl::cross_entropy(logits, Y);
}  // namespace cnn

BOOST_AUTO_TEST_CASE(a_cnn_step_on_threads_equals_one_thread) {
  tl::tensor<float, 8, 3, 12, 12> x;
  tl::tensor<std::int32_t, 8> y;
  fill_wave(x, 7, 1.0f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::int32_t((i * 3) % 10);
  check_steps_with_threads(cnn::loss, tl::optim::sgd{.lr = 0.05f, .momentum = 0.9f}, 0.2f, 3, cnn::X = x,
                           cnn::Y = y);
}

// A forward-only program whose pooling runs in the convolution's kernel
// (compile/kernels/conv2d.hpp): each share of the images pools its own, so
// the result is one thread's, bit for bit.
BOOST_AUTO_TEST_CASE(a_convolution_with_its_pooling_on_threads_equals_one_thread) {
  constexpr auto X = tl::input<"X", float, 8, 3, 12, 12>;
  constexpr auto y = tl::max_pool2d<3, 2, 1>(
      tl::relu(tl::nn::batch_norm2d<"bn">(tl::nn::conv2d<"conv", 16, 3, tl::nn::conv_options{.padding = 1}>(X))));
  auto one = tl::compile(y);
  using S = decltype(one)::forward_schedule;
  // Batch norm folded into the convolution (three small kernels: its scale,
  // the weights and the bias), then one kernel for the convolution, ReLU and the pooling.
  static_assert(S::plan.kernel_count == 4, "the convolution, batch norm, ReLU and pooling run as one kernel");
  tl::tensor<float, 8, 3, 12, 12> x;
  fill_wave(x, 5, 1.0f);
  auto params = tl::parameters_of(y);
  fill_store(params, 0.3f);
  for (float& v : params.get<"bn.running_var">()) v = 0.5f + std::abs(v);
  const auto expected = one(params, X = x);
  BOOST_TEST(std::isfinite(expected[0]));
  for (std::size_t threads : {2, 3}) {
    tl::thread_pool pool(threads);
    auto many = tl::compile(y);
    many.use_threads(&pool);
    const std::size_t before = allocations.load();
    const auto& got = many(params, X = x);
    BOOST_TEST(allocations.load() == before, "a call with " << threads << " threads allocated");
    BOOST_TEST(std::memcmp(got.data(), expected.data(), expected.size() * sizeof(float)) == 0,
               "the pooled result on " << threads << " threads differs from one thread's");
  }
}

// Long elementwise loops split between a pool's threads (compile/kernels/loop.hpp):
// a flat loop (split by batches of columns, the tail in the last share), one
// over merged planes, and one row by row; each on 2 and 3 threads equals one thread.
BOOST_AUTO_TEST_CASE(long_elementwise_loops_on_threads_equal_one_thread) {
  constexpr auto A = tl::input<"A", float, 64, 2053>;       // 131,392 elements: 4 shares, a scalar tail
  constexpr auto B = tl::input<"B", float, 8, 16, 32, 33>;  // per-channel scale: merged planes
  constexpr auto C = tl::input<"C", float, 16, 1, 1>;
  constexpr auto R = tl::input<"R", float, 257>;            // along the rows: row by row
  constexpr auto D = tl::input<"D", float, 520, 257>;
  constexpr auto flat = tl::tanh(A) * A + tl::sigmoid(A);
  constexpr auto planes = tl::relu(B * C - 0.25f);
  constexpr auto rows = tl::exp(D * R) - D;
  tl::tensor<float, 64, 2053> a;
  tl::tensor<float, 8, 16, 32, 33> b;
  tl::tensor<float, 16, 1, 1> cs;
  tl::tensor<float, 257> r;
  tl::tensor<float, 520, 257> d;
  fill_wave(a, 3, 2.0f);
  fill_wave(b, 5, 1.0f);
  fill_wave(cs, 7, 1.0f);
  fill_wave(r, 11, 1.0f);
  fill_wave(d, 13, 1.0f);
  auto check = [&](auto expression, auto&&... bindings) {
    auto one = tl::compile(expression);
    auto none = tl::parameters_of(expression);
    const auto expected = one(none, bindings...);
    BOOST_TEST(std::isfinite(expected[expected.size() - 1]));
    for (std::size_t threads : {2, 3}) {
      tl::thread_pool pool(threads);
      auto many = tl::compile(expression);
      many.use_threads(&pool);
      const std::size_t before = allocations.load();
      const auto& got = many(none, bindings...);
      BOOST_TEST(allocations.load() == before, "a loop on " << threads << " threads allocated");
      BOOST_TEST(std::memcmp(got.data(), expected.data(), expected.size() * sizeof(float)) == 0,
                 "a loop on " << threads << " threads differs from one thread's");
    }
  };
  check(flat, A = a);
  check(planes, B = b, C = cs);
  check(rows, D = d, R = r);
}

namespace pools {
// Pooling large enough to split its batch on a pool's threads (max and
// average pooling of [8, 16, 32, 32]: 4 shares of 2 images each), forward
// and backward; a third thread has no share of them. h is read by both
// poolings: stored, one pooling runs in the convolution's kernel, the other
// on its own.
constexpr auto X = tl::input<"X", float, 8, 4, 32, 32>;
constexpr auto Y = tl::input<"Y", std::int32_t, 8>;
constexpr tl::nn::conv_options same{.padding = 1};
constexpr auto h = tl::relu(tl::nn::conv2d<"conv", 16, 3, same>(X));  // [8, 16, 32, 32]
constexpr auto pooled = tl::max_pool2d<2>(h) + tl::avg_pool2d<2>(h);   // [8, 16, 16, 16]
constexpr auto logits = tl::nn::linear<"fc", 10>(tl::flatten(pooled));
constexpr auto loss = tl::cross_entropy(logits, Y);
static_assert(tl::detail::pool2d_shares<tl::simd::pool2d_shape{8, 16, 32, 32, 2, 0, 0}>::count == 4);
}  // namespace pools

BOOST_AUTO_TEST_CASE(pooling_split_between_threads_equals_one_thread) {
  tl::tensor<float, 8, 4, 32, 32> x;
  tl::tensor<std::int32_t, 8> y;
  fill_wave(x, 5, 1.0f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::int32_t((i * 3) % 10);

  auto params = tl::parameters_of(pools::loss);
  fill_store(params, 0.2f);
  auto forward_one = tl::compile(pools::logits);
  const auto logits_one = forward_one(params, pools::X = x);
  for (std::size_t threads : {2, 3}) {
    tl::thread_pool pool(threads);
    auto forward = tl::compile(pools::logits);
    forward.use_threads(&pool);
    const auto& logits = forward(params, pools::X = x);
    BOOST_TEST(std::memcmp(logits.data(), logits_one.data(), sizeof(float) * logits.size()) == 0,
               "the forward program's logits with " << threads << " threads differ from one thread's");
  }
  check_steps_with_threads(pools::loss, tl::optim::sgd{.lr = 0.01f}, 0.2f, 3, pools::X = x, pools::Y = y);
}

// The weight gradient summed in shares of the batch against the whole
// batch's kernel (itself checked against torch in tests/simd/conv2d.cpp):
// only the order of the sum over images differs.
BOOST_AUTO_TEST_CASE(a_cnn_weight_gradient_summed_in_shares_agrees_with_the_whole_batch_kernel) {
  tl::tensor<float, 8, 3, 12, 12> x;
  tl::tensor<std::int32_t, 8> y;
  fill_wave(x, 11, 1.0f);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = std::int32_t((i * 7) % 10);
  auto program = tl::compile(cnn::loss);
  auto params = tl::parameters_of(cnn::loss);
  fill_store(params, 0.2f);
  (void)program.step(params, cnn::X = x, cnn::Y = y);

  // conv2's input and output gradient, recomputed here: h1 and dL/d(conv2 output).
  auto forward_h1 = tl::compile(cnn::h1);
  const auto h1 = forward_h1(params, cnn::X = x);  // [8, 16, 6, 6]
  auto forward_h2 = tl::compile(cnn::h2);
  const auto h2 = forward_h2(params, cnn::X = x);
  auto forward_logits = tl::compile(cnn::logits);
  const auto z = forward_logits(params, cnn::X = x);
  // dL/dz of the mean cross-entropy, back through fc and the ReLU.
  std::vector<float> dz(8 * 10), dh2(h2.size(), 0.f);
  for (std::size_t r = 0; r < 8; ++r) {
    float top = z(r, 0), sum = 0;
    for (std::size_t k = 1; k < 10; ++k) top = std::max(top, z(r, k));
    for (std::size_t k = 0; k < 10; ++k) sum += std::exp(z(r, k) - top);
    for (std::size_t k = 0; k < 10; ++k)
      dz[r * 10 + k] = (std::exp(z(r, k) - top) / sum - (std::int32_t(k) == y[r] ? 1.f : 0.f)) / 8.f;
  }
  const auto& fc = std::as_const(params).get<"fc.weight">();  // [10, 1152]
  for (std::size_t r = 0; r < 8; ++r)
    for (std::size_t j = 0; j < 1152; ++j) {
      float g = 0;
      for (std::size_t k = 0; k < 10; ++k) g += dz[r * 10 + k] * fc(k, j);
      dh2[r * 1152 + j] = h2[r * 1152 + j] > 0 ? g : 0.f;
    }
  constexpr simd::conv2d_shape conv2{.batch = 8, .in_channels = 16, .height = 6, .width = 6, .out_channels = 32,
                                     .kernel_height = 3, .kernel_width = 3, .padding = 1};
  std::vector<float> whole(conv2.weight_size());
  alignas(64) static std::byte scratch[simd::conv2d_scratch_bytes<conv2, float>()];
  simd::conv2d_weight_gradient<conv2>(h1.data(), dh2.data(), whole.data(), scratch);
  const auto& shared = params.grad<"conv2.weight">();
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    worst = std::max(worst, double(std::abs(shared[i] - whole[i])));
    scale = std::max(scale, double(std::abs(whole[i])));
  }
  BOOST_TEST(scale > 1e-4);  // a gradient worth comparing
  BOOST_TEST(worst <= 1e-5 * scale, "worst difference " << worst << " against gradients up to " << scale);
}
