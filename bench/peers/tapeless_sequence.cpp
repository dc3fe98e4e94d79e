// The sequence workloads (sequence_inputs.hpp) with tapeless as its users
// write them: the sequence classifier's loss compiled with Adam bundled
// (tl::compile(loss, tl::optim::adam{...})), and a recurrent layer compiled
// for one sample at a time with its state kept in the program (tl::stream).

#include <tapeless/tapeless.hpp>

#include "common.hpp"
#include "sequence_inputs.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace tl = tapeless;
namespace peers = tapeless::bench::peers;
namespace w6 = tapeless::bench::peers::w6;

namespace {

// Fills the store in PyTorch's parameter order (names), value k = weight_value(k).
template <class Store>
void fill_in_torch_order(Store& params, std::span<const std::string_view> order, float scale) {
  std::size_t k = 0, filled = 0;
  for (std::string_view want : order)
    params.visit([&](std::string_view name, auto& value, auto&) {
      if (name != want) return;
      for (std::size_t i = 0; i < value.size(); ++i) value[i] = w6::weight_value(++k, scale);
      ++filled;
    });
  if (filled != order.size()) throw std::runtime_error("tapeless_sequence: a parameter named in the order is missing");
}

constexpr std::string_view recurrent_order(std::string_view layer, int k) {
  constexpr std::string_view gru[] = {"gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0", "gru.bias_hh_l0"};
  constexpr std::string_view lstm[] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                       "lstm.bias_hh_l0"};
  return layer == "gru" ? gru[k] : lstm[k];
}

void train(peers::driver& d) {
  static constexpr auto X = tl::input<"X", float, w6::batch, w6::steps, w6::features>;
  static constexpr auto Y = tl::input<"Y", std::int32_t, w6::batch>;
  static constexpr auto states = tl::nn::lstm<"lstm", w6::hidden>(X);
  static constexpr auto last =
      tl::reshape<w6::batch, w6::hidden>(tl::slice<1, w6::steps - 1, w6::steps>(states));
  static constexpr auto loss = tl::cross_entropy(tl::nn::linear<"fc", w6::classes>(last), Y);
  constexpr std::string_view order[] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                        "lstm.bias_hh_l0",   "fc.weight",         "fc.bias"};
  constexpr std::size_t sample = w6::steps * w6::features;

  const w6::sequence_data data;
  auto trainer = tl::compile(loss, tl::optim::adam{.lr = w6::lr});
  auto params = tl::parameters_of(loss);
  d.workload(
      "w6_lstm_train_b64",
      [&] {
        fill_in_torch_order(params, order, w6::weight_scale);
        trainer.optimizer().reset();
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % w6::batches) * w6::batch;
        return double(trainer.step(
            params, X = std::span<const float, w6::batch * sample>(&data.x[s * sample], w6::batch * sample),
            Y = std::span<const std::int32_t, w6::batch>(&data.y[s], w6::batch)));
      });
}

template <tl::fixed_string Name, class Model>
void stream(peers::driver& d, const char* workload, std::string_view layer, const Model& model) {
  static constexpr auto x = tl::input<"x", float, 1, 1, 1>;
  auto params = tl::parameters_of(model);
  auto streaming = tl::stream<tl::inline_storage>(model);
  const std::string_view order[] = {recurrent_order(layer, 0), recurrent_order(layer, 1),
                                    recurrent_order(layer, 2), recurrent_order(layer, 3)};
  tl::tensor<float, 1, 1, 1> sample;
  d.workload(
      workload,
      [&] {
        fill_in_torch_order(params, order, w6::stream_weight_scale);
        streaming.reset();
      },
      [&](std::uint64_t i) {
        sample[0] = w6::stream_sample(i);
        return double(streaming(params, x = sample)[0]);
      });
}

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  train(d);
  static constexpr auto x = tl::input<"x", float, 1, 1, 1>;
  stream<"gru">(d, "stream_gru8", "gru", tl::nn::gru<"gru", 8>(x));
  stream<"gru">(d, "stream_gru16", "gru", tl::nn::gru<"gru", 16>(x));
  stream<"lstm">(d, "stream_lstm16", "lstm", tl::nn::lstm<"lstm", 16>(x));
  stream<"lstm">(d, "stream_lstm32", "lstm", tl::nn::lstm<"lstm", 32>(x));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tapeless_sequence: %s\n", e.what());
  return 1;
}
