// tl::stream with pack_weights: each recurrent layer's W_hh^T kept by the
// program (compile/packed_weights.hpp, inside the scan's share of the
// copies) gives the outputs of the stream that reads the weights where they
// lie, and of the whole sequence at once, sample for sample; a write the
// store sees shows in the next call; a write it cannot see is caught (this
// file turns the check on). A whole-sequence program packs its scans too.
#define TAPELESS_CHECK_PACKED_WEIGHTS 1
#define BOOST_TEST_MODULE compile_streaming_packed
#include "support.hpp"

#include <cmath>
#include <cstddef>

namespace tl = tapeless;

namespace {

constexpr std::size_t T = 12, F = 2;

// An LSTM-16 into a GRU-8 into a linear head: gate widths of whole batches on
// every instruction set (a GRU-8's body runs on AVX2 batches under AVX-512).
template <std::size_t Length, class X>
constexpr auto model(const X& x) {
  const auto hidden = tl::nn::gru<"gru", 8>(tl::nn::lstm<"lstm", 16>(x));
  return tl::nn::linear<"head", 1>(tl::reshape<Length, 8>(hidden));
}

constexpr auto whole_input = tl::input<"x", float, 1, T, F>;
constexpr auto whole = model<T>(whole_input);
constexpr auto sample = tl::input<"x", float, 1, 1, F>;
constexpr auto one_step = model<1>(sample);

template <class Store>
void fill_params(Store& params) {
  std::size_t k = 0;
  params.visit([&](std::string_view, auto& value, auto&) {
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = 0.4f * std::sin(1.3f * float(++k));
  });
}

tl::tensor<float, 1, 1, F> sample_at(std::size_t t) {
  tl::tensor<float, 1, 1, F> one;
  for (std::size_t f = 0; f < F; ++f) one[f] = std::cos(0.7f * float(t * F + f));
  return one;
}

tl::tensor<float, 1, T, F> signal() {
  tl::tensor<float, 1, T, F> s;
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t f = 0; f < F; ++f) s[t * F + f] = sample_at(t)[f];
  return s;
}

// Sample t through both streams: the packed one runs, and agrees.
template <class Stream, class Store>
void next_sample_agrees(Stream& plain, Stream& packed, Store& params, std::size_t t) {
  const float a = plain(params, sample = sample_at(t))[0];
  const float b = packed(params, sample = sample_at(t))[0];
  BOOST_TEST(!packed.last_error(), "sample " << t << ": " << tl::to_string(packed.last_error()));
  BOOST_TEST(std::abs(b - a) <= 1e-5f * (1 + std::abs(a)), "sample " << t << ": " << b << " against " << a);
}

// One store, a stream reading the weights where they lie and a packed one.
struct two_streams {
  decltype(tl::parameters_of(whole)) params;
  decltype(tl::stream(one_step)) plain = tl::stream(one_step);
  decltype(tl::stream(one_step)) packed = tl::stream(one_step);
  two_streams() {
    fill_params(params);
    packed.pack_weights(params);
  }
};

// Both recurrent weights W_hh (LSTM 64 x 16, GRU 24 x 8) are kept transposed.
constexpr std::size_t recurrent_weights_bytes = (64 * 16 + 24 * 8) * sizeof(float);

}  // namespace

BOOST_AUTO_TEST_CASE(a_packed_stream_equals_the_unpacked_stream_and_the_whole_sequence) {
  auto params = tl::parameters_of(whole);
  fill_params(params);
  auto full = tl::compile(whole);
  const auto expected = full(params, whole_input = signal());  // [T, 1]

  auto plain = tl::stream(one_step);
  auto packed = tl::stream(one_step);
  static_assert(decltype(packed)::program_type::packed_weight_bytes >= recurrent_weights_bytes);
  BOOST_TEST(!packed.packs_weights());
  packed.pack_weights(params);
  BOOST_TEST(packed.packs_weights());
  for (int round = 0; round < 2; ++round) {  // the second time after a reset
    for (std::size_t t = 0; t < T; ++t) {
      const float a = plain(params, sample = sample_at(t))[0];
      const float b = packed(params, sample = sample_at(t))[0];
      BOOST_TEST(!packed.last_error());
      BOOST_TEST(b == a, boost::test_tools::tolerance(1e-5f));
      BOOST_TEST(b == expected[t], boost::test_tools::tolerance(1e-5f));
    }
    plain.reset();
    packed.reset();
  }
}

BOOST_FIXTURE_TEST_CASE(a_weight_changed_through_the_store_is_seen_by_the_next_packed_call, two_streams) {
  for (std::size_t t = 0; t < T; ++t) {
    if (t == 4) params.get<"lstm.weight_hh_l0">()(5, 3) += 0.75f;
    if (t == 7) params.get<"gru.weight_hh_l0">()(17, 2) -= 1.5f;
    if (t == 9) tl::init::xavier_uniform(params, 3);
    next_sample_agrees(plain, packed, params, t);
  }
}

BOOST_FIXTURE_TEST_CASE(an_unannounced_write_to_a_recurrent_weight_is_caught_and_the_state_kept, two_streams) {
  auto& w = params.get<"gru.weight_hh_l0">();
  for (std::size_t t = 0; t < 3; ++t) {
    plain(params, sample = sample_at(t));
    packed(params, sample = sample_at(t));
  }
  w(10, 4) += 0.5f;  // the store cannot see this write
  BOOST_TEST(std::isnan(packed(params, sample = sample_at(3))[0]));
  BOOST_TEST((packed.last_error().what == tl::run_error::kind::stale_weight));
  BOOST_TEST(packed.last_error().input == "gru.weight_hh_l0");
  params.mark_changed();
  // The failed call ran nothing: both streams go on from sample 3.
  for (std::size_t t = 3; t < T; ++t) {
    next_sample_agrees(plain, packed, params, t);
  }
}

BOOST_AUTO_TEST_CASE(a_whole_sequence_program_packs_its_recurrent_weights_too) {
  auto params = tl::parameters_of(whole);
  fill_params(params);
  auto plain = tl::compile(whole);
  auto packed = tl::compile(whole);
  static_assert(decltype(packed)::packed_weight_bytes >= recurrent_weights_bytes);
  packed.pack_weights(params);
  const auto xs = signal();
  const auto expected = plain(params, whole_input = xs);
  const auto& got = packed(params, whole_input = xs);
  for (std::size_t t = 0; t < T; ++t) BOOST_TEST(got[t] == expected[t], boost::test_tools::tolerance(1e-5f));
  params.get<"lstm.weight_hh_l0">()(0, 0) = 2.f;
  const auto changed = plain(params, whole_input = xs);
  const auto& got_changed = packed(params, whole_input = xs);
  BOOST_TEST(changed[T - 1] != expected[T - 1]);
  for (std::size_t t = 0; t < T; ++t) BOOST_TEST(got_changed[t] == changed[t], boost::test_tools::tolerance(1e-5f));
}
