// W1 and W2 with libtorch's C++ API as its users write them: torch::nn
// modules, the loss functions, loss.backward(), torch::optim::SGD. One
// thread (torch::set_num_threads(1)); data bound with torch::from_blob (no
// copy); class ids converted to int64 once, outside the timing.

#include <torch/torch.h>

#include "common.hpp"

#include <cstdint>
#include <memory>

namespace peers = tapeless::bench::peers;

namespace {

struct mlp : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
  bool relu;
  mlp(int in, int h1, int h2, int out, bool use_relu)
      : fc1(register_module("fc1", torch::nn::Linear(in, h1))),
        fc2(register_module("fc2", torch::nn::Linear(h1, h2))),
        fc3(register_module("fc3", torch::nn::Linear(h2, out))),
        relu(use_relu) {}
  torch::Tensor forward(torch::Tensor x) {
    x = relu ? torch::relu(fc1(x)) : torch::tanh(fc1(x));
    x = relu ? torch::relu(fc2(x)) : torch::tanh(fc2(x));
    return fc3(x);
  }
  // The blob's order is the state dict's: fc1.weight, fc1.bias, ...
  void load(const std::vector<float>& w) {
    torch::NoGradGuard no_grad;
    std::size_t at = 0;
    for (auto& p : parameters()) {
      auto src = torch::from_blob(const_cast<float*>(w.data() + at), p.sizes(), torch::kFloat32);
      p.copy_(src);
      at += std::size_t(p.numel());
    }
    if (at != w.size()) throw std::runtime_error("torch_mlp: weights blob size");
  }
};

}  // namespace

int main(int argc, char** argv) try {
  torch::set_num_threads(1);
  peers::driver d(argc, argv);
  {
    const peers::w1_data data(d.dir());
    namespace w = peers::w1;
    for (int b : {1, 32}) {
      auto net = std::make_shared<mlp>(w::in, w::hidden, w::hidden, w::out, false);
      std::unique_ptr<torch::optim::SGD> opt;
      const std::size_t pool = w::samples / b;
      d.workload(
          b == 1 ? "w1_train_b1" : "w1_train_b32",
          [&] {
            net->load(data.weights);
            opt = std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(w::lr));
          },
          [&](std::uint64_t i) {
            const std::size_t s = (i % pool) * b;
            auto x = torch::from_blob(const_cast<float*>(&data.x[s * w::in]), {b, long(w::in)});
            auto t = torch::from_blob(const_cast<float*>(&data.t[s]), {b, 1});
            opt->zero_grad();
            auto loss = torch::mse_loss(net->forward(x), t);
            loss.backward();
            opt->step();
            return double(loss.item<float>());
          });
    }
    auto net = std::make_shared<mlp>(w::in, w::hidden, w::hidden, w::out, false);
    d.workload(
        "w1_infer_b1", [&] { net->load(data.weights); },
        [&](std::uint64_t i) {
          torch::InferenceMode guard;
          const std::size_t s = i % w::samples;
          auto x = torch::from_blob(const_cast<float*>(&data.x[s * w::in]), {1, long(w::in)});
          return double(net->forward(x).item<float>());
        });
  }
  {
    const peers::w2_data data(d.dir());
    namespace w = peers::w2;
    auto net = std::make_shared<mlp>(w::in, w::h1, w::h2, w::out, true);
    auto sgd = [&] {
      return std::make_unique<torch::optim::SGD>(net->parameters(),
                                                 torch::optim::SGDOptions(w::lr).momentum(w::momentum));
    };
    auto opt = sgd();
    std::vector<std::int64_t> labels(data.y.begin(), data.y.end());
    d.workload(
        "w2_train_b64",
        [&] {
          net->load(data.weights);
          opt = sgd();
        },
        [&](std::uint64_t i) {
          const std::size_t s = (i % w::batches) * w::batch;
          auto x = torch::from_blob(const_cast<float*>(&data.x[s * w::in]), {long(w::batch), long(w::in)});
          auto y = torch::from_blob(&labels[s], {long(w::batch)}, torch::kInt64);
          opt->zero_grad();
          auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
          loss.backward();
          opt->step();
          return double(loss.item<float>());
        });
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_mlp: %s\n", e.what());
  return 1;
}
