// tl::stream: a recurrent model called one sample (or one block) at a time
// gives the outputs of the whole sequence at once, step for step; reset
// starts over; a call allocates nothing.
#define BOOST_TEST_MODULE compile_streaming
#include "support.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

namespace tl = tapeless;

// Every allocation in this test program is counted.
#include "../counting_allocator.hpp"

namespace {

constexpr std::size_t T = 12, F = 2, H = 5;

// The same model over a whole sequence and over `length` samples: an LSTM
// into a GRU into a linear head, one output per step.
template <std::size_t Length, class X>
constexpr auto model(const X& x) {
  const auto hidden = tl::nn::gru<"gru", 3>(tl::nn::lstm<"lstm", H>(x));
  return tl::nn::linear<"head", 1>(tl::reshape<Length, 3>(hidden));
}

constexpr auto whole_input = tl::input<"x", float, 1, T, F>;
constexpr auto whole = model<T>(whole_input);

template <class Store>
void fill_params(Store& params) {
  std::size_t k = 0;
  params.visit([&](std::string_view, auto& value, auto&) {
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = 0.4f * std::sin(1.3f * float(++k));
  });
}

tl::tensor<float, 1, T, F> signal() {
  tl::tensor<float, 1, T, F> s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = std::cos(0.7f * float(i));
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(streaming_one_sample_at_a_time_equals_the_whole_sequence) {
  constexpr auto sample = tl::input<"x", float, 1, 1, F>;
  auto params = tl::parameters_of(whole);
  fill_params(params);
  const auto xs = signal();
  auto full = tl::compile(whole);
  const auto expected = full(params, whole_input = xs);  // [T, 1]

  auto streaming = tl::stream(model<1>(sample));
  static_assert(decltype(streaming)::state_count == 2);
  for (int round = 0; round < 2; ++round) {  // the second time after a reset
    for (std::size_t t = 0; t < T; ++t) {
      tl::tensor<float, 1, 1, F> one;
      for (std::size_t f = 0; f < F; ++f) one[f] = xs[t * F + f];
      const auto& out = streaming(params, sample = one);
      BOOST_TEST(out[0] == expected[t], boost::test_tools::tolerance(1e-5f));
    }
    streaming.reset();
  }
}

BOOST_AUTO_TEST_CASE(streaming_in_blocks_equals_the_whole_sequence) {
  constexpr std::size_t block = 4;
  constexpr auto chunk = tl::input<"x", float, 1, block, F>;
  auto params = tl::parameters_of(whole);
  fill_params(params);
  const auto xs = signal();
  auto full = tl::compile(whole);
  const auto expected = full(params, whole_input = xs);

  auto streaming = tl::stream(model<block>(chunk));
  for (std::size_t start = 0; start < T; start += block) {
    tl::tensor<float, 1, block, F> part;
    for (std::size_t i = 0; i < part.size(); ++i) part[i] = xs[start * F + i];
    const auto& out = streaming(params, chunk = part);
    for (std::size_t t = 0; t < block; ++t)
      BOOST_TEST(out[t] == expected[start + t], boost::test_tools::tolerance(1e-5f));
  }
}

// A stream runs on the instruction set its widest recurrent step runs on
// (compile/streaming.hpp's streaming_arch): with AVX-512, a GRU of hidden
// size 8 (whose step runs on AVX2 batches) streams on AVX2 throughout, one
// of 16 on AVX-512; a model without a scan, or an instruction set named,
// keeps its own. Both forms stream the same outputs.
BOOST_AUTO_TEST_CASE(a_stream_runs_on_the_instruction_set_of_its_widest_recurrent_step) {
  constexpr auto one = tl::input<"x", float, 1, 1, 1>;
  constexpr auto gru8 = tl::nn::gru<"gru", 8>(one);
  using narrow = decltype(tl::stream(gru8))::program_type::arch;
  using wide = decltype(tl::stream(tl::nn::gru<"gru", 16>(one)))::program_type::arch;
  using named = decltype(tl::stream<tl::automatic_storage, xsimd::default_arch>(gru8))::program_type::arch;
  using without_scan = decltype(tl::stream(tl::nn::linear<"fc", 4>(tl::input<"v", float, 1, 3>)))::program_type::arch;
  static_assert(std::is_same_v<narrow, tl::simd::fitting_arch<float, xsimd::default_arch, 8>>);
  static_assert(std::is_same_v<wide, tl::simd::fitting_arch<float, xsimd::default_arch, 16>>);
  static_assert(std::is_same_v<named, xsimd::default_arch> && std::is_same_v<without_scan, xsimd::default_arch>);
#if XSIMD_WITH_AVX512F && XSIMD_WITH_FMA3_AVX2
  static_assert(std::is_same_v<narrow, xsimd::fma3<xsimd::avx2>> && std::is_same_v<wide, xsimd::default_arch>);
#endif
  auto params = tl::parameters_of(gru8);
  fill_params(params);
  auto chosen = tl::stream(gru8);
  auto widest = tl::stream<tl::automatic_storage, xsimd::default_arch>(gru8);
  tl::tensor<float, 1, 1, 1> sample;
  for (int t = 0; t < 20; ++t) {
    sample[0] = std::sin(0.3f * float(t));
    const auto& a = chosen(params, one = sample);
    const auto& b = widest(params, one = sample);
    for (std::size_t j = 0; j < 8; ++j) BOOST_TEST(a[j] == b[j], boost::test_tools::tolerance(1e-6f));
  }
}

namespace {

// Streams 100 samples, then resets, counting allocations throughout. With
// packed weights the copies live inside the program: packing them, and making
// them again after a write the store announces (half way), allocates nothing
// either.
void check_streaming_allocates_nothing(bool packed) {
  constexpr auto sample = tl::input<"x", float, 1, 1, F>;
  auto params = tl::parameters_of(whole);
  fill_params(params);
  auto streaming = tl::stream<tl::inline_storage>(model<1>(sample));
  tl::tensor<float, 1, 1, F> one;
  one.fill(0.5f);
  float sum = 0;
  const std::size_t before = allocations.load();
  if (packed) streaming.pack_weights(params);
  for (int i = 0; i < 100; ++i) {
    if (packed && i == 50) params.mark_changed();  // the next call makes the copies again
    one[0] = float(i) * 0.01f;
    sum += streaming(params, sample = one)[0];
  }
  streaming.reset();
  const std::size_t after = allocations.load();
  BOOST_TEST(streaming.packs_weights() == packed);
  BOOST_TEST(after == before, (after - before) << " allocations while streaming"
                                               << (packed ? " with packed weights" : ""));
  BOOST_TEST(std::isfinite(sum));
}

}  // namespace

BOOST_AUTO_TEST_CASE(streaming_a_sample_allocates_nothing) { check_streaming_allocates_nothing(false); }

BOOST_AUTO_TEST_CASE(streaming_with_packed_weights_allocates_nothing) { check_streaming_allocates_nothing(true); }

BOOST_AUTO_TEST_CASE(streaming_a_batch_of_sequences_keeps_each_one_state) {
  constexpr auto sequences = tl::input<"x", float, 2, T, F>;
  constexpr auto samples = tl::input<"x", float, 2, 1, F>;
  constexpr auto all = tl::nn::gru<"gru", H>(sequences);
  auto params = tl::parameters_of(all);
  fill_params(params);
  tl::tensor<float, 2, T, F> xs;
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = std::sin(0.37f * float(i));
  auto full = tl::compile(all);
  const auto expected = full(params, sequences = xs);  // [2, T, H]

  auto streaming = tl::stream(tl::nn::gru<"gru", H>(samples));
  for (std::size_t t = 0; t < T; ++t) {
    tl::tensor<float, 2, 1, F> step;
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t f = 0; f < F; ++f) step[n * F + f] = xs[(n * T + t) * F + f];
    const auto& out = streaming(params, samples = step);
    for (std::size_t n = 0; n < 2; ++n)
      for (std::size_t j = 0; j < H; ++j)
        BOOST_TEST(out[n * H + j] == expected[(n * T + t) * H + j], boost::test_tools::tolerance(1e-5f));
  }
}
