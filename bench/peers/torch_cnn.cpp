// W5 with libtorch's C++ API as its users write it: torch::nn::Conv2d and
// Linear modules, torch::max_pool2d, cross_entropy, loss.backward(),
// torch::optim::SGD with momentum; and the same network with BatchNorm2d
// after each convolution, evaluated (eval(), InferenceMode). One thread
// (torch::set_num_threads(1)) unless TAPELESS_BENCH_THREADS says more;
// its CPU convolutions go through oneDNN (mkldnn) where the build has it.
// See common.hpp for the protocol and the files.

#include <torch/torch.h>

#include "common.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <cstdio>
#include <initializer_list>
#include <memory>

namespace peers = tapeless::bench::peers;
namespace w = peers::w5;

namespace {

struct lenet : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  explicit lenet(bool batch_norm)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, w::c1, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(w::c1, w::c2, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(w::fc_in, w::h))),
        fc2(register_module("fc2", torch::nn::Linear(w::h, w::out))) {
    if (batch_norm) {
      bn1 = register_module("bn1", torch::nn::BatchNorm2d(w::c1));
      bn2 = register_module("bn2", torch::nn::BatchNorm2d(w::c2));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    x = conv1(x);
    x = torch::max_pool2d(torch::relu(bn1.is_empty() ? x : bn1(x)), 2);
    x = conv2(x);
    x = torch::max_pool2d(torch::relu(bn2.is_empty() ? x : bn2(x)), 2);
    x = torch::relu(fc1(x.flatten(1)));
    return fc2(x);
  }
  // The blob's order: conv1.weight, conv1.bias, conv2.weight, ..., fc2.bias;
  // batch norm's entries from w5::batch_norm_values.
  void load(const std::vector<float>& blob) {
    torch::NoGradGuard no_grad;
    std::size_t at = 0;
    for (torch::nn::Module* layer : std::initializer_list<torch::nn::Module*>{conv1.get(), conv2.get(), fc1.get(), fc2.get()})
      for (auto& p : layer->parameters()) {
        p.copy_(torch::from_blob(const_cast<float*>(blob.data() + at), p.sizes(), torch::kFloat32));
        at += std::size_t(p.numel());
      }
    if (at != blob.size()) throw std::runtime_error("torch_cnn: weights blob size");
    auto fill = [](torch::nn::BatchNorm2d& bn, int k) {
      for (std::int64_t c = 0; c < bn->weight.size(0); ++c) {
        const auto v = w::batch_norm_values(k, std::size_t(c));
        bn->weight[c] = v.weight;
        bn->bias[c] = v.bias;
        bn->running_mean[c] = v.running_mean;
        bn->running_var[c] = v.running_var;
      }
    };
    if (!bn1.is_empty()) fill(bn1, 1);
    if (!bn2.is_empty()) fill(bn2, 2);
  }
};

}  // namespace

int main(int argc, char** argv) try {
  torch::set_num_threads(int(w::threads()));
  // TAPELESS_TORCH_MKLDNN=0: convolutions without oneDNN (ATen's own im2col +
  // BLAS), to compare with the faster of the two.
  if (const char* mkldnn = std::getenv("TAPELESS_TORCH_MKLDNN"); mkldnn && std::string(mkldnn) == "0")
    at::globalContext().setUserEnabledMkldnn(false);
  peers::driver d(argc, argv);
  const peers::w5_data data(d.dir());
  auto net = std::make_shared<lenet>(false);
  auto sgd = [&] {
    return std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(w::lr).momentum(w::momentum));
  };
  auto opt = sgd();
  std::vector<std::int64_t> labels(data.y.begin(), data.y.end());
  constexpr long n = long(w::batch), side = long(w::side);
  d.workload(
      "w5_train_b64",
      [&] {
        net->load(data.weights);
        opt = sgd();
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % w::batches) * w::batch;
        auto x = torch::from_blob(const_cast<float*>(&data.x[s * side * side]), {n, 1, side, side});
        auto y = torch::from_blob(&labels[s], {n}, torch::kInt64);
        opt->zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt->step();
        return double(loss.item<float>());
      });
  auto evaluated = std::make_shared<lenet>(true);
  evaluated->eval();
  d.workload(
      "w5bn_infer_b64", [&] { evaluated->load(data.weights); },
      [&](std::uint64_t i) {
        torch::InferenceMode guard;
        const std::size_t s = (i % w::batches) * w::batch;
        auto x = torch::from_blob(const_cast<float*>(&data.x[s * side * side]), {n, 1, side, side});
        return double(evaluated->forward(x).sum().item<float>());  // every logit in the check value
      });
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "torch_cnn: %s\n", e.what());
  return 1;
}
