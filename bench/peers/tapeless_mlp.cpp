// W1 and W2 with tapeless, as a user writes them: the network as an
// expression, tl::compile(loss, tl::optim::sgd{...}) for forward, backward and
// the update (fused into the weight-gradient GEMMs), tl::compile(output) for inference. See common.hpp for the protocol.

#include <tapeless/tapeless.hpp>

#include "common.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace tl = tapeless;
namespace peers = tapeless::bench::peers;

namespace {

// Copies a weights blob into a store, in the file's order (common.hpp).
template <class Store>
void load_blob(Store& params, const std::vector<float>& blob, std::span<const std::string_view> order) {
  std::size_t at = 0;
  for (std::string_view want : order)
    params.visit([&](std::string_view name, auto& value, auto&) {
      if (name != want) return;
      std::memcpy(value.data(), blob.data() + at, value.size() * sizeof(float));
      at += value.size();
    });
  if (at != blob.size()) throw std::runtime_error("tapeless_mlp: the weights blob does not match the store");
}

constexpr std::string_view layer_order_names[] = {
    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"};

namespace w1 {
template <std::size_t B>
struct net {
  static constexpr auto X = tl::input<"X", float, B, peers::w1::in>;
  static constexpr auto T = tl::input<"T", float, B, 1>;
  static constexpr auto h1 = tl::tanh(tl::nn::linear<"fc1", peers::w1::hidden>(X));
  static constexpr auto h2 = tl::tanh(tl::nn::linear<"fc2", peers::w1::hidden>(h1));
  static constexpr auto out = tl::nn::linear<"fc3", peers::w1::out>(h2);
  static constexpr auto loss = tl::mse(out, T);
};

template <std::size_t B>
void train(peers::driver& d, const peers::w1_data& data, const char* name) {
  using N = net<B>;
  // The fast path: the SGD update runs inside the weight-gradient GEMMs.
  auto trainer = tl::compile(N::loss, tl::optim::sgd{.lr = peers::w1::lr});
  auto params = tl::parameters_of(N::loss);
  constexpr std::size_t pool = peers::w1::samples / B;
  d.workload(
      name,
      [&] {
        load_blob(params, data.weights, layer_order_names);
        trainer.optimizer().reset();
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % pool) * B;
        const float l = trainer.step(params, N::X = std::span<const float, B * peers::w1::in>(&data.x[s * peers::w1::in], B * peers::w1::in),
                                     N::T = std::span<const float, B>(&data.t[s], B));
        return double(l);
      });
}

void infer(peers::driver& d, const peers::w1_data& data) {
  using N = net<1>;
  auto predict = tl::compile(N::out);
  auto params = tl::parameters_of(N::loss);
  // Latency first: W^T copies of the small weights, broadcast-and-FMA (the
  // weights are written only through the store here: pack_weights' promise).
  d.workload(
      "w1_infer_b1",
      [&] {
        load_blob(params, data.weights, layer_order_names);
        predict.pack_weights(params);
      },
      [&](std::uint64_t i) {
        const std::size_t s = i % peers::w1::samples;
        const auto& y = predict(params, N::X = std::span<const float, peers::w1::in>(&data.x[s * peers::w1::in], peers::w1::in));
        return double(y.data()[0]);
      });
}
}  // namespace w1

namespace dense {
// y = W x + b at batch 1, N inputs and outputs, as a user writes it.
template <std::size_t N>
void infer(peers::driver& d, const char* name) {
  static constexpr auto X = tl::input<"X", float, 1, N>;
  static constexpr auto y = tl::nn::linear<"dense", N>(X);
  const peers::dense_data data(N);
  auto predict = tl::compile(y);
  auto params = tl::parameters_of(y);
  constexpr std::string_view order[] = {"dense.weight", "dense.bias"};
  d.workload(
      name,
      [&] {
        load_blob(params, data.weights, order);
        predict.pack_weights(params);  // as W1's inference above
      },
      [&](std::uint64_t i) {
        const std::size_t s = i % peers::dense::samples;
        const auto& out = predict(params, X = std::span<const float, N>(&data.x[s * N], N));
        return double(out.data()[i % N]);
      });
}
}  // namespace dense

namespace w2 {
using namespace peers::w2;
constexpr auto X = tl::input<"X", float, batch, in>;
constexpr auto Y = tl::input<"Y", std::int32_t, batch>;
constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", peers::w2::h1>(X));
constexpr auto h2 = tl::relu(tl::nn::linear<"fc2", peers::w2::h2>(h1));
constexpr auto logits = tl::nn::linear<"fc3", out>(h2);
constexpr auto loss = tl::cross_entropy(logits, Y);

void train(peers::driver& d, const peers::w2_data& data) {
  // The fast path: the SGD update runs inside the weight-gradient GEMMs.
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = lr, .momentum = momentum});
  auto params = tl::parameters_of(loss);
  d.workload(
      "w2_train_b64",
      [&] {
        load_blob(params, data.weights, layer_order_names);
        trainer.optimizer().reset();
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % batches) * batch;
        const float l = trainer.step(params, X = std::span<const float, batch * in>(&data.x[s * in], batch * in),
                                     Y = std::span<const std::int32_t, batch>(&data.y[s], batch));
        return double(l);
      });
}
}  // namespace w2

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  {
    const peers::w1_data data(d.dir());
    w1::train<1>(d, data, "w1_train_b1");
    w1::train<32>(d, data, "w1_train_b32");
    w1::infer(d, data);
  }
  dense::infer<16>(d, "dense16_infer_b1");
  dense::infer<64>(d, "dense64_infer_b1");
  {
    const peers::w2_data data(d.dir());
    w2::train(d, data);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tapeless_mlp: %s\n", e.what());
  return 1;
}
