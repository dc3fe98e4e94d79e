// Per-sample streaming latency of recurrent layers (GRU hidden 8 and 16,
// LSTM hidden 16 and 32; one input feature, an audio sample): tl::stream
// against the layer's step written by hand twice (PyTorch's gate layout,
// weights read from the same store): as plain loops, and as an expert
// writes it (SIMD broadcast-and-FMA, SIMD exp and tanh). All three are
// checked to agree first; tl::stream twice, reading the weights where they
// lie and with streaming.pack_weights(params) (W_hh^T kept by the program).
// Needs AVX2 (built with -march=native).
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

// The same steps as an expert writes them (BENCHMARKING.md): W_hh stored
// transposed, the gates accumulated by broadcast-and-FMA over L-lane
// registers, exp and tanh in SIMD (xsimd), state in registers' worth of
// memory. B is an xsimd batch whose width divides H.
template <class B>
B simd_sigmoid(B v) {
  return B(1.f) / (B(1.f) + xsimd::exp(-v));
}

template <std::size_t H, class B>
struct expert_gru {
  static constexpr std::size_t L = B::size, G = 3 * H / L;
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  alignas(64) std::array<float, H * 3 * H> transposed{};  // [k][j]
  alignas(64) std::array<float, H> h{};
  expert_gru(const float* wi, const float* wh, const float* bi, const float* bh)
      : w_ih(wi), w_hh(wh), b_ih(bi), b_hh(bh) {
    for (std::size_t j = 0; j < 3 * H; ++j)
      for (std::size_t k = 0; k < H; ++k) transposed[k * 3 * H + j] = wh[j * H + k];
  }
  float operator()(float x) {
    std::array<B, G> acc;
    for (std::size_t g = 0; g < G; ++g) acc[g] = B::load_unaligned(b_hh + g * L);
    for (std::size_t k = 0; k < H; ++k) {
      const B hk(h[k]);
      for (std::size_t g = 0; g < G; ++g) acc[g] = xsimd::fma(B::load_aligned(&transposed[k * 3 * H + g * L]), hk, acc[g]);
    }
    const B xb(x);
    for (std::size_t j = 0; j < H / L; ++j) {
      const auto in = [&](std::size_t gate) {
        return xsimd::fma(B::load_unaligned(w_ih + gate * H + j * L), xb, B::load_unaligned(b_ih + gate * H + j * L));
      };
      const B r = simd_sigmoid(in(0) + acc[j]);
      const B z = simd_sigmoid(in(1) + acc[H / L + j]);
      const B n = xsimd::tanh(xsimd::fma(r, acc[2 * H / L + j], in(2)));
      const B old = B::load_aligned(&h[j * L]);
      xsimd::fma(z, old - n, n).store_aligned(&h[j * L]);
    }
    return h[0];
  }
};

template <std::size_t H, class B>
struct expert_lstm {
  static constexpr std::size_t L = B::size, G = 4 * H / L;
  const float *w_ih, *w_hh, *b_ih, *b_hh;
  alignas(64) std::array<float, H * 4 * H> transposed{};
  alignas(64) std::array<float, 4 * H> bias{};
  alignas(64) std::array<float, H> h{}, c{};
  expert_lstm(const float* wi, const float* wh, const float* bi, const float* bh)
      : w_ih(wi), w_hh(wh), b_ih(bi), b_hh(bh) {
    for (std::size_t j = 0; j < 4 * H; ++j) {
      bias[j] = bi[j] + bh[j];
      for (std::size_t k = 0; k < H; ++k) transposed[k * 4 * H + j] = wh[j * H + k];
    }
  }
  float operator()(float x) {
    const B xb(x);
    std::array<B, G> acc;
    for (std::size_t g = 0; g < G; ++g)
      acc[g] = xsimd::fma(B::load_unaligned(w_ih + g * L), xb, B::load_aligned(&bias[g * L]));
    for (std::size_t k = 0; k < H; ++k) {
      const B hk(h[k]);
      for (std::size_t g = 0; g < G; ++g) acc[g] = xsimd::fma(B::load_aligned(&transposed[k * 4 * H + g * L]), hk, acc[g]);
    }
    for (std::size_t j = 0; j < H / L; ++j) {
      const B i = simd_sigmoid(acc[j]), f = simd_sigmoid(acc[H / L + j]);
      const B g = xsimd::tanh(acc[2 * H / L + j]), o = simd_sigmoid(acc[3 * H / L + j]);
      const B cell = xsimd::fma(f, B::load_aligned(&c[j * L]), i * g);
      cell.store_aligned(&c[j * L]);
      (o * xsimd::tanh(cell)).store_aligned(&h[j * L]);
    }
    return h[0];
  }
};

template <tl::fixed_string Name, class Hand, class Expert, class Model>
void measure(const char* title, const Model& model) {
  auto params = tl::parameters_of(model);
  fill_params(params);
  auto streaming = tl::stream<tl::inline_storage>(model);
  // The same with W_hh^T kept by the program (streaming.pack_weights).
  auto packed = tl::stream<tl::inline_storage>(model);
  packed.pack_weights(params);
  Hand hand{params.template get<Name + tl::fixed_string(".weight_ih_l0")>().data(),
            params.template get<Name + tl::fixed_string(".weight_hh_l0")>().data(),
            params.template get<Name + tl::fixed_string(".bias_ih_l0")>().data(),
            params.template get<Name + tl::fixed_string(".bias_hh_l0")>().data()};
  tl::tensor<float, 1, 1, 1> x;
  double worst = 0;
  for (int i = 0; i < 200; ++i) {
    x[0] = std::sin(0.05f * float(i));
    const float a = streaming(params, sample = x)[0];
    const float p = packed(params, sample = x)[0];
    const float want = hand(x[0]);
    worst = std::max({worst, double(std::abs(a - want)), double(std::abs(p - want))});
  }
  Expert expert{hand.w_ih, hand.w_hh, hand.b_ih, hand.b_hh};
  Hand plain{hand.w_ih, hand.w_hh, hand.b_ih, hand.b_hh};
  for (int i = 0; i < 200; ++i) {
    const float v = std::sin(0.05f * float(i));
    worst = std::max(worst, double(std::abs(expert(v) - plain(v))));
  }
  streaming.reset();
  packed.reset();
  hand = Hand{hand.w_ih, hand.w_hh, hand.b_ih, hand.b_hh};
  expert = Expert{hand.w_ih, hand.w_hh, hand.b_ih, hand.b_hh};

  benchmark b(title);
  b.add("tapeless", [&](std::uint64_t i) {
    x[0] = float(i & 1023) * 1e-3f;
    do_not_optimize(streaming(params, sample = x)[0]);
  });
  b.add("tapeless_packed", [&](std::uint64_t i) {
    x[0] = float(i & 1023) * 1e-3f;
    do_not_optimize(packed(params, sample = x)[0]);
  });
  b.add("hand", [&](std::uint64_t i) { do_not_optimize(hand(float(i & 1023) * 1e-3f)); });
  b.add("simd_hand", [&](std::uint64_t i) { do_not_optimize(expert(float(i & 1023) * 1e-3f)); });
  b.run();
  const summary t = b.time("tapeless"), p = b.time("tapeless_packed"), h = b.time("hand"), e = b.time("simd_hand");
  std::printf("%-8s tapeless %7.1f ns  packed %7.1f ns  plain loop %7.1f ns  SIMD by hand %6.1f ns  tapeless/plain %s"
              "  tapeless/SIMD-hand %s  packed/SIMD-hand %s  (outputs agree within %.1e)\n",
              title, t.median, p.median, h.median, e.median, b.ratio("tapeless", "hand").format(2).c_str(),
              b.ratio("tapeless", "simd_hand").format(2).c_str(), b.ratio("tapeless_packed", "simd_hand").format(2).c_str(),
              worst);
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::printf("arch: %s; ns per sample, medians over interleaved repetitions\n", xsimd::default_arch::name());
  // Register widths that divide the hidden size: 8 lanes (AVX2) for 8, the widest for 16 and 32.
  using eight = xsimd::batch<float, xsimd::avx2>;
  using wide = xsimd::batch<float>;
  measure<"gru", hand_gru<8>, expert_gru<8, eight>>("GRU-8", tl::nn::gru<"gru", 8>(sample));
  measure<"gru", hand_gru<16>, expert_gru<16, wide>>("GRU-16", tl::nn::gru<"gru", 16>(sample));
  measure<"lstm", hand_lstm<16>, expert_lstm<16, wide>>("LSTM-16", tl::nn::lstm<"lstm", 16>(sample));
  measure<"lstm", hand_lstm<32>, expert_lstm<32, wide>>("LSTM-32", tl::nn::lstm<"lstm", 32>(sample));
}
