// Per-sample streaming latency of recurrent layers (GRU hidden 8 and 16,
// LSTM hidden 16 and 32; one input feature, an audio sample): tl::stream
// against a loop written by hand for that layer (PyTorch's gate layout,
// weights read from the same store). Both are checked to agree first.
//
//   taskset -c 0 ./build/bench/streaming/streaming_recurrent_latency
//
// RTNeural's published figures (i7-8700B, xsimd): GRU-8 106 ns, GRU-16
// 219 ns, LSTM-16 332 ns, LSTM-32 1035 ns per sample.

#include "harness.hpp"

#include <tapeless/tapeless.hpp>

#include <array>
#include <cmath>
#include <cstdio>

namespace tl = tapeless;
using namespace tapeless::bench;

namespace {

constexpr auto sample = tl::input<"x", float, 1, 1, 1>;

template <class Store>
void fill_params(Store& params) {
  std::size_t k = 0;
  params.visit([&](std::string_view, auto& value, auto&) {
    for (std::size_t i = 0; i < value.size(); ++i) value[i] = 0.3f * std::sin(1.3f * float(++k));
  });
}

inline float sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

// torch.nn.GRU's step for one sample of one feature, written out.
template <std::size_t H>
struct hand_gru {
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  std::array<float, H> h{};
  float operator()(float x) {
    std::array<float, 3 * H> hidden;
    for (std::size_t j = 0; j < 3 * H; ++j) {
      float a = b_hh[j];
      for (std::size_t k = 0; k < H; ++k) a += w_hh[j * H + k] * h[k];
      hidden[j] = a;
    }
    for (std::size_t j = 0; j < H; ++j) {
      const float r = sigmoid(w_ih[j] * x + b_ih[j] + hidden[j]);
      const float z = sigmoid(w_ih[H + j] * x + b_ih[H + j] + hidden[H + j]);
      const float n = std::tanh(w_ih[2 * H + j] * x + b_ih[2 * H + j] + r * hidden[2 * H + j]);
      h[j] = (1 - z) * n + z * h[j];
    }
    return h[0];
  }
};

// torch.nn.LSTM's step for one sample of one feature, written out.
template <std::size_t H>
struct hand_lstm {
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  std::array<float, H> h{}, c{};
  float operator()(float x) {
    std::array<float, 4 * H> g;
    for (std::size_t j = 0; j < 4 * H; ++j) {
      float a = b_hh[j] + b_ih[j] + w_ih[j] * x;
      for (std::size_t k = 0; k < H; ++k) a += w_hh[j * H + k] * h[k];
      g[j] = a;
    }
    for (std::size_t j = 0; j < H; ++j) {
      c[j] = sigmoid(g[H + j]) * c[j] + sigmoid(g[j]) * std::tanh(g[2 * H + j]);
      h[j] = sigmoid(g[3 * H + j]) * std::tanh(c[j]);
    }
    return h[0];
  }
};

template <tl::fixed_string Name, class Hand, class Model>
void measure(const char* title, const Model& model) {
  auto params = tl::parameters_of(model);
  fill_params(params);
  auto streaming = tl::stream<tl::inline_storage>(model);
  Hand hand{params.template get<Name + tl::fixed_string(".weight_ih_l0")>().data(),
            params.template get<Name + tl::fixed_string(".weight_hh_l0")>().data(),
            params.template get<Name + tl::fixed_string(".bias_ih_l0")>().data(),
            params.template get<Name + tl::fixed_string(".bias_hh_l0")>().data()};
  tl::tensor<float, 1, 1, 1> x;
  double worst = 0;
  for (int i = 0; i < 200; ++i) {
    x[0] = std::sin(0.05f * float(i));
    const float a = streaming(params, sample = x)[0];
    worst = std::max(worst, double(std::abs(a - hand(x[0]))));
  }
  streaming.reset();
  hand = Hand{hand.w_ih, hand.w_hh, hand.b_ih, hand.b_hh};

  benchmark b(title);
  b.add("tapeless", [&](std::uint64_t i) {
    x[0] = float(i & 1023) * 1e-3f;
    do_not_optimize(streaming(params, sample = x)[0]);
  });
  b.add("hand", [&](std::uint64_t i) { do_not_optimize(hand(float(i & 1023) * 1e-3f)); });
  b.run();
  const summary t = b.time("tapeless"), h = b.time("hand");
  std::printf("%-8s tapeless %7.1f ns  hand-written %7.1f ns  tapeless/hand %s  (outputs agree within %.1e)\n",
              title, t.median, h.median, b.ratio("tapeless", "hand").format(2).c_str(), worst);
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::printf("arch: %s; ns per sample, medians over interleaved repetitions\n", xsimd::default_arch::name());
  measure<"gru", hand_gru<8>>("GRU-8", tl::nn::gru<"gru", 8>(sample));
  measure<"gru", hand_gru<16>>("GRU-16", tl::nn::gru<"gru", 16>(sample));
  measure<"lstm", hand_lstm<16>>("LSTM-16", tl::nn::lstm<"lstm", 16>(sample));
  measure<"lstm", hand_lstm<32>>("LSTM-32", tl::nn::lstm<"lstm", 32>(sample));
  measure<"gru", hand_gru<8>>("GRU-8", tl::nn::gru<"gru", 8>(sample));  // again, last: is the first run warm?
}
