// The sequence workloads (sequence_inputs.hpp) with libtorch's C++ API as its
// users write them: torch::nn::LSTM (batch first) and Linear, cross_entropy,
// loss.backward(), torch::optim::Adam; and a recurrent module called once per
// sample under InferenceMode, its state passed from call to call. One thread.

#include <torch/torch.h>

#include "common.hpp"
#include "sequence_inputs.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>

namespace peers = tapeless::bench::peers;
namespace w6 = tapeless::bench::peers::w6;

namespace {

// Value k = weight_value(k) over the parameters in registration order (PyTorch's state-dict order).
void fill(torch::nn::Module& module, float scale) {
  torch::NoGradGuard no_grad;
  std::size_t k = 0;
  for (auto& p : module.parameters()) {
    auto flat = p.view({-1});
    auto a = flat.accessor<float, 1>();
    for (std::int64_t i = 0; i < flat.numel(); ++i) a[i] = w6::weight_value(++k, scale);
  }
}

struct classifier : torch::nn::Module {
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear fc{nullptr};
  classifier()
      : lstm(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(w6::features, w6::hidden).batch_first(true)))),
        fc(register_module("fc", torch::nn::Linear(w6::hidden, w6::classes))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto states = std::get<0>(lstm->forward(x));  // [batch, steps, hidden]
    return fc(states.select(1, w6::steps - 1));
  }
};

void train(peers::driver& d) {
  const w6::sequence_data data;
  std::vector<std::int64_t> labels(data.y.begin(), data.y.end());
  auto net = std::make_shared<classifier>();
  std::unique_ptr<torch::optim::Adam> opt;
  constexpr std::size_t sample = w6::steps * w6::features;
  d.workload(
      "w6_lstm_train_b64",
      [&] {
        fill(*net, w6::weight_scale);
        opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(w6::lr));
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % w6::batches) * w6::batch;
        auto x = torch::from_blob(const_cast<float*>(&data.x[s * sample]),
                                  {long(w6::batch), long(w6::steps), long(w6::features)});
        auto y = torch::from_blob(&labels[s], {long(w6::batch)}, torch::kInt64);
        opt->zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt->step();
        return double(loss.item<float>());
      });
}

template <class Module, class State>
void stream(peers::driver& d, const char* workload, Module module) {
  std::optional<State> state;
  float input = 0;
  auto x = torch::from_blob(&input, {1, 1, 1});
  d.workload(
      workload,
      [&] {
        fill(*module, w6::stream_weight_scale);
        state.reset();
      },
      [&](std::uint64_t i) {
        torch::InferenceMode guard;
        input = w6::stream_sample(i);
        auto [out, next] = state ? module->forward(x, *state) : module->forward(x);
        state = next;
        return double(out.template data_ptr<float>()[0]);  // h[0], as the other programs
      });
}

}  // namespace

int main(int argc, char** argv) try {
  torch::set_num_threads(1);
  peers::driver d(argc, argv);
  train(d);
  using gru = torch::nn::GRU;
  using lstm = torch::nn::LSTM;
  stream<gru, torch::Tensor>(d, "stream_gru8", gru(torch::nn::GRUOptions(1, 8).batch_first(true)));
  stream<gru, torch::Tensor>(d, "stream_gru16", gru(torch::nn::GRUOptions(1, 16).batch_first(true)));
  stream<lstm, std::tuple<torch::Tensor, torch::Tensor>>(d, "stream_lstm16",
                                                          lstm(torch::nn::LSTMOptions(1, 16).batch_first(true)));
  stream<lstm, std::tuple<torch::Tensor, torch::Tensor>>(d, "stream_lstm32",
                                                          lstm(torch::nn::LSTMOptions(1, 32).batch_first(true)));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_sequence: %s\n", e.what());
  return 1;
}
