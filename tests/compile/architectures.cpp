// The instruction set is a template parameter of the whole program: the same
// training program built for SSE2, AVX2 and the build machine's widest set
// computes the same losses, gradients and updates (to float rounding: the
// order of additions differs with the register width).
#define BOOST_TEST_MODULE compile_architectures
#include "support.hpp"

#include <cstdint>
#include <type_traits>

namespace tl = tapeless;

namespace {

constexpr auto X = tl::input<"X", float, 8, 19>;
constexpr auto Y = tl::input<"Y", std::int32_t, 8>;
constexpr auto h = tl::tanh(tl::nn::linear<"fc1", 37>(X));
constexpr auto logits = tl::nn::linear<"fc2", 5>(h);
constexpr auto loss = tl::cross_entropy(logits, Y);

template <class Arch>
auto train_three_steps() {
  auto trainer = tl::compile<Arch>(loss, tl::optim::sgd{.lr = 0.1f, .momentum = 0.9f});
  static_assert(std::is_same_v<typename decltype(trainer)::program_type::arch, Arch>);
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, 11);
  tl::tensor<float, 8, 19> x;
  tl::tensor<std::int32_t, 8> y;
  tl::random_stream rng{5};
  for (auto& e : x) e = rng.uniform() - 0.5f;
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<std::int32_t>(i % 5);
  std::array<float, 3> losses{};
  for (auto& l : losses) l = trainer.step(params, X = x, Y = y);
  return std::pair{losses, params};
}

template <class A, class B>
void check_same(const A& a, const B& b, const char* what) {
  for (std::size_t i = 0; i < 3; ++i)
    BOOST_TEST(std::abs(a.first[i] - b.first[i]) <= 1e-5f * std::abs(b.first[i]), what << " loss " << i);
  a.second.visit([&](std::string_view name, auto& v, auto&) {
    b.second.visit([&](std::string_view other, auto& w, auto&) {
      if (name != other) return;
      for (std::size_t i = 0; i < v.size(); ++i)
        BOOST_TEST(std::abs(v[i] - w[i]) <= 1e-5f * std::max(1.f, std::abs(w[i])), what << " " << name << "[" << i << "]");
    });
  });
}

}  // namespace

BOOST_AUTO_TEST_CASE(one_program_built_for_several_instruction_sets_computes_the_same) {
  const auto narrow = train_three_steps<xsimd::sse2>();
  const auto native = train_three_steps<xsimd::default_arch>();
  BOOST_TEST_MESSAGE("default architecture: " << xsimd::default_arch::name());
  check_same(native, narrow, "default vs sse2");
#if XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
  const auto avx2 = train_three_steps<xsimd::fma3<xsimd::avx2>>();
  check_same(avx2, narrow, "avx2 vs sse2");
#endif
  // The losses fall: the comparison is of a program that trains.
  BOOST_TEST(native.first[2] < native.first[0]);
}

// Recurrent layers narrower than a register: the scan's body runs on the
// narrower instruction set whose batches fit its state (simd/narrower_arch.hpp:
// a GRU of hidden size 8 on AVX2 batches inside an AVX-512 program), and
// computes what the SSE2 program computes, forward, backward and update.
template <class Arch, std::size_t H>
auto train_recurrent_three_steps() {
  constexpr auto S = tl::input<"S", float, 2, 5, 3>;
  constexpr auto T = tl::input<"T", float, 10, 1>;
  constexpr auto hidden = tl::nn::gru<"gru", H>(tl::nn::lstm<"lstm", H>(S));
  constexpr auto out = tl::nn::linear<"head", 1>(tl::reshape<10, H>(hidden));
  constexpr auto loss = tl::mse(out, T);
  auto trainer = tl::compile<Arch>(loss, tl::optim::sgd{.lr = 0.1f});
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, 7);
  tl::tensor<float, 2, 5, 3> x;
  tl::tensor<float, 10, 1> t;
  tl::random_stream rng{3};
  for (auto& e : x) e = rng.uniform() - 0.5f;
  for (auto& e : t) e = rng.uniform() - 0.5f;
  std::array<float, 3> losses{};
  for (auto& l : losses) l = trainer.step(params, S = x, T = t);
  return std::pair{losses, params};
}

template <std::size_t H>
void check_recurrent_on_every_instruction_set() {
  const auto narrow = train_recurrent_three_steps<xsimd::sse2, H>();
  const auto native = train_recurrent_three_steps<xsimd::default_arch, H>();
  check_same(native, narrow, "recurrent, default vs sse2");
#if XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
  const auto avx2 = train_recurrent_three_steps<xsimd::fma3<xsimd::avx2>, H>();
  check_same(avx2, narrow, "recurrent, avx2 vs sse2");
#endif
  BOOST_TEST(native.first[2] < native.first[0]);
}

BOOST_AUTO_TEST_CASE(recurrent_layers_narrower_than_a_register_compute_the_same_on_every_instruction_set) {
#if XSIMD_WITH_AVX512F && XSIMD_WITH_FMA3_AVX2
  static_assert(std::is_same_v<tl::simd::fitting_arch<float, xsimd::avx512f, 8>, xsimd::fma3<xsimd::avx2>>);
  static_assert(std::is_same_v<tl::simd::fitting_arch<float, xsimd::avx512f, 16>, xsimd::avx512f>);
#endif
  check_recurrent_on_every_instruction_set<8>();  // half an AVX-512 register
  check_recurrent_on_every_instruction_set<4>();  // half an AVX2 one
  check_recurrent_on_every_instruction_set<6>();  // no whole batch of 8: SSE and a scalar tail
}

// NaN on the widest lanes: xsimd 8's != is an ordered compare on AVX and
// AVX-512 (NaN != NaN is false there), so every NaN test must not use it.
BOOST_AUTO_TEST_CASE(nan_propagates_on_the_widest_lanes_as_in_pytorch) {
  constexpr std::size_t n = 203;
  constexpr auto v = tl::input<"v", float, n>;
  constexpr auto u = tl::input<"u", float, n>;
  auto max_all = tl::compile(tl::max(v));
  auto pairwise = tl::compile(tl::max(v, u) + tl::min(u, v));
  auto picked = tl::compile(tl::where(v, u, 2.f * u));
  auto differs = tl::compile(tl::not_equal(v, u));
  auto none = tl::parameters_of(tl::max(v));
  tl::tensor<float, n> a, b;
  for (std::size_t i = 0; i < n; ++i) a[i] = float(i % 13), b[i] = 1.f;
  for (const std::size_t at : {std::size_t{0}, std::size_t{17}, std::size_t{100}, std::size_t{202}}) {
    a[at] = std::nanf("");
    BOOST_TEST(std::isnan(max_all(none, v = a)), "max, NaN at " << at);
    const auto& p = pairwise(none, v = a, u = b);
    BOOST_TEST(std::isnan(p[at]), "max(v, u) + min(u, v), NaN at " << at);
    const auto& w = picked(none, v = a, u = b);
    BOOST_TEST(w[at] == 1.f, "where with a NaN condition picks its first branch, at " << at);
    const auto& d = differs(none, v = a, u = b);
    BOOST_TEST(d[at] == 1.f, "not_equal(NaN, 1) is 1, at " << at);
    a[at] = float(at % 13);
  }
}
