// What the compiler makes of a graph: kernel counts, fusion, the buffer plan,
// and that running a program never allocates.
#define BOOST_TEST_MODULE compile_plan
#include "support.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace tl = tapeless;

// Every allocation in this test program is counted.
#include "../counting_allocator.hpp"

namespace {

constexpr auto X = tl::input<"X", float, 64, 784>;
constexpr auto Y = tl::input<"Y", std::int32_t, 64>;
constexpr auto W1 = tl::param<"W1", float, 256, 784>;
constexpr auto b1 = tl::param<"b1", float, 256>;
constexpr auto W2 = tl::param<"W2", float, 128, 256>;
constexpr auto b2 = tl::param<"b2", float, 128>;
constexpr auto W3 = tl::param<"W3", float, 10, 128>;
constexpr auto b3 = tl::param<"b3", float, 10>;
constexpr auto h1 = tl::relu(tl::matmul(X, tl::transpose(W1)) + b1);
constexpr auto h2 = tl::relu(tl::matmul(h1, tl::transpose(W2)) + b2);
constexpr auto logits = tl::matmul(h2, tl::transpose(W3)) + b3;
constexpr auto mlp_loss = tl::cross_entropy(logits, Y);

// The perceptron's weights drawn from N(0, scale^2), and a batch (on the
// heap: 200 KB) of uniform inputs and class ids, all from one seeded stream.
template <class Store>
auto random_perceptron_data(Store& params, std::uint64_t seed, float scale) {
  auto x = std::make_unique<tl::tensor<float, 64, 784>>();
  auto y = std::make_unique<tl::tensor<std::int32_t, 64>>();
  tl::random_stream rng{seed};
  params.visit([&](std::string_view, auto& v, auto&) {
    for (auto& e : v) e = scale * rng.normal();
  });
  for (auto& e : *x) e = rng.uniform();
  for (auto& e : *y) e = static_cast<std::int32_t>(rng.below(10));
  return std::pair{std::move(x), std::move(y)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(ten_chained_elementwise_ops_compile_to_one_kernel) {
  constexpr auto A = tl::input<"A", float, 37, 29>;  // 1073 elements: SIMD body and a tail
  constexpr auto B = tl::input<"B", float, 37, 29>;
  constexpr auto chain =
      tl::sqrt(tl::square(tl::tanh(tl::exp(-(A * B + 1.f) / 4.f) - B) * A) + 2.f) - tl::sigmoid(B);
  auto program = tl::compile(chain);
  static_assert(decltype(program)::forward_kernels == 1);
  BOOST_TEST(decltype(program)::forward_kernels == 1u);

  tl::tensor<float, 37, 29> a, b;
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = 0.01f * float(i % 97) - 0.4f, b[i] = 0.02f * float(i % 31) - 0.3f;
  auto no_params = tl::parameters_of(chain);
  const auto& out = program(no_params, A = a, B = b);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float x = a[i], y = b[i];
    const float t = std::tanh(std::exp(-(x * y + 1.f) / 4.f) - y) * x;
    const float expected = std::sqrt(t * t + 2.f) - 1.f / (1.f + std::exp(-y));
    BOOST_TEST(std::abs(out[i] - expected) <= 1e-5f, "element " << i << ": " << out[i] << " vs " << expected);
  }
}

// The training program of a 784-256-128-10 perceptron with ReLU and softmax
// cross-entropy has 16 kernels:
//   forward (7): three GEMMs, each with its bias and activation in the
//     epilogue; logsumexp of the logits; gather of the labels' logits; the
//     sum of the differences; the mean (a scalar kernel writing the loss);
//   backward (9): d logits = (softmax - one_hot) / 64 in one loop; two GEMMs
//     G W whose epilogues multiply by relu' (read from the activation); three
//     weight-gradient GEMMs G^T H writing straight into the store; three bias
//     gradients (column sums).
BOOST_AUTO_TEST_CASE(perceptron_training_program_has_the_documented_kernels) {
  using program = decltype(tl::compile(mlp_loss));
  static_assert(program::forward_kernels == 7);
  static_assert(program::training_kernels == 16);
  BOOST_TEST(program::training_kernels == 16u);
  // Buffers share bytes: far less than every intermediate laid side by side.
  BOOST_TEST(program::arena_bytes < 300u * 1024u);
  const std::string dot = tl::to_dot(tl::compile(mlp_loss));
  BOOST_TEST(dot.find("16 kernels") != std::string::npos);
  BOOST_TEST(dot.find("subgraph cluster_15") != std::string::npos);
  BOOST_TEST(dot.find("subgraph cluster_16") == std::string::npos);
}

// Without dropout or batch norm, a training program's forward call runs the
// step's own kernels for the loss (compile/program.hpp), and only those: it
// gives the step's loss bit for bit, and leaves the store's gradients alone.
BOOST_AUTO_TEST_CASE(a_forward_call_runs_only_the_steps_forward_kernels) {
  using trainer = decltype(tl::compile<tl::heap_storage>(mlp_loss));
  static_assert(trainer::forward_within_training);
  static_assert(trainer::forward_kernels < trainer::training_kernels);
  auto program = std::make_unique<trainer>(tl::compile<tl::heap_storage>(mlp_loss));
  auto predict = tl::compile<tl::heap_storage>(logits);
  auto params = tl::parameters_of(mlp_loss);
  const auto [x, y] = random_perceptron_data(params, 11, 0.1f);

  // A fresh program's forward call first (its arena as made: a kernel left
  // out that the call needs would leave its reader stale zeros), against
  // the step of another program.
  params.visit([](std::string_view, auto&, auto& g) {
    for (auto& e : g) e = 7.f;
  });
  const float forward = (*program)(params, X = *x, Y = *y);
  auto stepper = std::make_unique<trainer>(tl::compile<tl::heap_storage>(mlp_loss));
  auto stepped_params = params;
  const float stepped = stepper->step(stepped_params, X = *x, Y = *y);
  BOOST_TEST(forward == stepped);
  BOOST_TEST((*program)(params, X = *x, Y = *y) == stepped);  // and again, after itself
  std::size_t touched = 0;
  params.visit([&](std::string_view, auto&, auto& g) {
    for (const auto e : g) touched += e != 7.f;
  });
  BOOST_TEST(touched == 0u, touched << " gradient values written by a forward call");

  // The loss from the logits of a forward-only program, by hand.
  const auto& z = predict(params, X = *x);
  double expected = 0;
  for (std::size_t r = 0; r < 64; ++r) {
    double top = z(r, 0), sum = 0;
    for (std::size_t c = 1; c < 10; ++c) top = std::max(top, double(z(r, c)));
    for (std::size_t c = 0; c < 10; ++c) sum += std::exp(double(z(r, c)) - top);
    expected += top + std::log(sum) - double(z(r, static_cast<std::size_t>((*y)[r])));
  }
  expected /= 64;
  BOOST_TEST(std::abs(double(forward) - expected) < 1e-5 * expected, forward << " vs " << expected);
}

namespace {
// The epilogue that schedule S gives the GEMM of matmul node Mm, as the GEMM
// functions are instantiated over it (compile/kernels/shared_epilogue.hpp).
struct no_context {};
template <class S, class Mm>
struct gemm_epilogue_in {
  // The kernel that runs Mm's GEMM: the root whose loop is its epilogue.
  static constexpr int root = S::plan.owner[S::template index<Mm>];
  static_assert(root >= 0 && S::plan.epilogue_of[static_cast<std::size_t>(root)] == int(S::template index<Mm>),
                "the GEMM has no epilogue in this schedule");
  using Root = typename S::template node_at<static_cast<std::size_t>(root)>;
  using loop = tl::detail::fused_values<S, no_context, root, tl::shape_of<Root>, false>;
  static constexpr bool canonical = tl::detail::epilogue_form<loop, Root>::canonical;
  using type = tl::detail::shared_epilogue_of<loop, Root>;
};
}  // namespace

// A layer computed by the training program and by a forward-only program of
// the same model runs one GEMM function: its epilogue (bias, activation) is
// typed by what it computes, not by the program (the examples' second
// programs compiled every such GEMM again).
BOOST_AUTO_TEST_CASE(a_layer_in_two_programs_instantiates_one_gemm) {
  using trainer = decltype(tl::compile(mlp_loss));
  using predict = decltype(tl::compile(logits));
  using first = std::remove_cvref_t<decltype(tl::matmul(X, tl::transpose(W1)))>;
  using last = std::remove_cvref_t<decltype(tl::matmul(h2, tl::transpose(W3)))>;
  using first_training = gemm_epilogue_in<trainer::training_schedule, first>;
  using first_inference = gemm_epilogue_in<predict::forward_schedule, first>;
  using last_training = gemm_epilogue_in<trainer::training_schedule, last>;
  using last_inference = gemm_epilogue_in<predict::forward_schedule, last>;
  BOOST_TEST(first_training::canonical);
  BOOST_TEST(last_inference::canonical);
  // relu(X W1^T + b1) in both; X W3^T + b3 as the loss's operand and as the program's output.
  BOOST_TEST((std::is_same_v<typename first_training::type, typename first_inference::type>));
  BOOST_TEST((std::is_same_v<typename last_training::type, typename last_inference::type>));
  // Different layers, different epilogues.
  BOOST_TEST((!std::is_same_v<typename first_training::type, typename last_training::type>));
}

BOOST_AUTO_TEST_CASE(training_step_never_allocates) {
  auto program = std::make_unique<decltype(tl::compile<tl::heap_storage>(mlp_loss))>(
      tl::compile<tl::heap_storage>(mlp_loss));
  auto params = tl::parameters_of(mlp_loss);
  const auto [x, y] = random_perceptron_data(params, 7, 0.05f);

  const std::size_t before = allocations.load();
  float loss = 0;
  for (int i = 0; i < 3; ++i) loss += program->step(params, X = *x, Y = *y);
  loss += (*program)(params, X = *x, Y = *y);
  const std::size_t after = allocations.load();
  BOOST_TEST(after == before, (after - before) << " allocations while stepping");
  BOOST_TEST(std::isfinite(loss));
  BOOST_TEST(std::abs(loss / 4 - std::log(10.f)) < 0.5f);  // small weights: near uniform predictions
}

BOOST_AUTO_TEST_CASE(storage_is_inline_or_allocated_once_as_asked) {
  constexpr auto A = tl::param<"A", float, 4, 4>;
  constexpr auto loss = tl::sum(tl::square(A));
  using inline_program = decltype(tl::compile<tl::inline_storage>(loss));
  using heap_program = decltype(tl::compile<tl::heap_storage>(mlp_loss));
  static_assert(sizeof(inline_program) >= inline_program::arena_bytes);
  // The perceptron's arena is on the heap: the program object holds its result and a pointer.
  BOOST_TEST(heap_program::arena_bytes > 100000u);
  BOOST_TEST(sizeof(heap_program) < 256u);

  const std::size_t before = allocations.load();
  auto on_stack = tl::compile<tl::inline_storage>(loss);
  auto params = tl::parameters_of<tl::inline_storage>(loss);
  params.get<"A">().fill(2.f);
  const float l = on_stack.step(params);
  BOOST_TEST(allocations.load() == before);  // nothing on the heap at all
  BOOST_TEST(l == 64.f);
  for (float g : params.grad<"A">()) BOOST_TEST(g == 4.f);
}

BOOST_AUTO_TEST_CASE(inference_program_returns_its_output_tensor) {
  auto predict = tl::compile(logits);
  auto params = tl::parameters_of(mlp_loss);
  static_assert(!decltype(predict)::trains);
  auto x = std::make_unique<tl::tensor<float, 64, 784>>();
  x->fill(0.f);
  params.get<"b3">()[3] = 1.5f;
  const tl::tensor<float, 64, 10>& z = predict(params, X = *x);
  BOOST_TEST(z(17, 3) == 1.5f);
  BOOST_TEST(z(17, 4) == 0.f);
}

BOOST_AUTO_TEST_CASE(inputs_bind_as_spans) {
  constexpr auto V = tl::input<"V", double, 6>;
  constexpr auto w = tl::param<"w", double, 6>;
  constexpr auto loss = tl::sum(V * w);
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  params.get<"w">().fill(2.0);
  const std::vector<double> data{1, 2, 3, 4, 5, 6};
  BOOST_TEST(program.step(params, V = std::span<const double, 6>(data.data(), 6)) == 42.0);
  BOOST_TEST(params.grad<"w">()[4] == 5.0);
}

BOOST_AUTO_TEST_CASE(grad_without_variables_takes_every_param) {
  constexpr auto A = tl::param<"A", double, 2, 2>;
  constexpr auto b = tl::param<"b", double, 2>;
  constexpr auto V = tl::input<"V", double, 2, 2>;
  constexpr auto loss = tl::sum(tl::square(A * V + b));
  constexpr auto g = tl::grad(loss);
  static_assert(decltype(g)::size == 2);
  // Each partial is an expression: compile it to evaluate it on tensors.
  auto dA = tl::compile(g[A]);
  auto params = tl::parameters_of(loss);
  params.get<"A">().fill(1.0);
  params.get<"b">().fill(0.5);
  tl::tensor<double, 2, 2> v;
  v.fill(2.0);
  const auto& value = dA(params, V = v);
  for (double e : value) BOOST_TEST(e == 2 * (1.0 * 2.0 + 0.5) * 2.0);
}

// Full reductions keep several partial sums (or maxima) going at once; each
// must be folded in, and the elements past the last whole batch too.
BOOST_AUTO_TEST_CASE(long_full_reductions_fold_every_chain_and_the_tail) {
  constexpr std::size_t n = 1003;  // whole unrolled trips, single batches, a scalar tail
  constexpr auto v = tl::input<"v", double, n>;
  auto sum_program = tl::compile(tl::sum(v));
  auto max_program = tl::compile(tl::max(v));
  auto no_params = tl::parameters_of(tl::sum(v));
  tl::tensor<double, n> values;
  for (std::size_t i = 0; i < n; ++i) values[i] = double(i);
  BOOST_TEST(sum_program(no_params, v = values) == double(n * (n - 1) / 2));  // exact in double
  for (const std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{10}, std::size_t{15},
                               std::size_t{500}, std::size_t{997}, std::size_t{1002}}) {
    for (std::size_t i = 0; i < n; ++i) values[i] = -double(i % 17);
    values[at] = 42.0;
    BOOST_TEST(max_program(no_params, v = values) == 42.0, "maximum at " << at);
  }
}

// a / s for a scalar s is computed as a * (1/s): one division, not one per
// element; the values and gradients are those of the division.
BOOST_AUTO_TEST_CASE(division_by_a_broadcast_value_takes_one_reciprocal) {
  constexpr std::size_t n = 100;
  constexpr auto v = tl::input<"v", double, n>;
  constexpr auto s = tl::param<"s", double>;
  constexpr auto f = tl::sum(tl::exp(v / s));
  auto program = tl::compile(f);
  const std::string dot = tl::to_dot(program);
  BOOST_TEST(dot.find("\"/ [100]\"") == std::string::npos, dot);
  BOOST_TEST(dot.find("\"/ []\"") != std::string::npos, dot);

  auto params = tl::parameters_of(f);
  params.get<"s">()[0] = 1.5;
  tl::tensor<double, n> values;
  for (std::size_t i = 0; i < n; ++i) values[i] = 0.01 * double(i) - 0.3;
  double expected = 0, expected_ds = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = std::exp(values[i] / 1.5);
    expected += e;
    expected_ds += e * -values[i] / (1.5 * 1.5);
  }
  const double loss = program.step(params, v = values);
  BOOST_TEST(std::abs(loss - expected) <= 1e-13 * std::abs(expected));
  BOOST_TEST(std::abs(params.grad<"s">()[0] - expected_ds) <= 1e-13 * std::abs(expected_ds));
}

// A NaN anywhere makes the maximum NaN, as torch.max does, whichever chain,
// batch or tail it falls in, for full and axis maxima.
BOOST_AUTO_TEST_CASE(a_nan_makes_the_maximum_nan) {
  constexpr std::size_t n = 1003;
  constexpr auto v = tl::input<"v", double, n>;
  auto max_program = tl::compile(tl::max(v));
  auto no_params = tl::parameters_of(tl::max(v));
  tl::tensor<double, n> values;
  for (const std::size_t at : {std::size_t{0}, std::size_t{7}, std::size_t{13}, std::size_t{999},
                               std::size_t{1002}}) {
    for (std::size_t i = 0; i < n; ++i) values[i] = double(i % 17);
    values[at] = std::nan("");
    BOOST_TEST(std::isnan(max_program(no_params, v = values)), "NaN at " << at);
  }
  constexpr auto m = tl::input<"m", float, 5, 37>;
  auto column_max = tl::compile(tl::max<0>(m));
  auto row_max = tl::compile(tl::max<1>(m));
  auto none = tl::parameters_of(tl::max<0>(m));
  tl::tensor<float, 5, 37> values2;
  for (std::size_t i = 0; i < values2.size(); ++i) values2[i] = float(i % 11);
  values2[2 * 37 + 30] = std::nanf("");  // row 2, column 30
  const auto& columns = column_max(none, m = values2);
  for (std::size_t j = 0; j < 37; ++j) BOOST_TEST(std::isnan(columns[j]) == (j == 30), "column " << j);
  const auto& rows = row_max(none, m = values2);
  for (std::size_t r = 0; r < 5; ++r) BOOST_TEST(std::isnan(rows[r]) == (r == 2), "row " << r);
}
