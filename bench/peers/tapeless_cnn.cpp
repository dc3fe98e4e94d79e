// W5 with tapeless, as a user writes it: the network as an expression
// (tl::nn::conv2d, tl::max_pool2d, tl::nn::linear), and
// tl::compile(loss, tl::optim::sgd{...}) for forward, backward and the
// update in one program; and the same network with tl::nn::batch_norm2d after
// each convolution, evaluated by a forward-only program (running statistics). See common.hpp for the protocol and the files.

#include <tapeless/tapeless.hpp>

#include "common.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace tl = tapeless;
namespace peers = tapeless::bench::peers;
namespace w = peers::w5;

namespace {

constexpr auto X = tl::input<"X", float, w::batch, w::side * w::side>;
constexpr auto Y = tl::input<"Y", std::int32_t, w::batch>;
constexpr tl::nn::conv_options same{.padding = 1};
constexpr auto images = tl::reshape<w::batch, 1, w::side, w::side>(X);
constexpr auto p1 = tl::max_pool2d<2>(tl::relu(tl::nn::conv2d<"conv1", w::c1, 3, same>(images)));
constexpr auto p2 = tl::max_pool2d<2>(tl::relu(tl::nn::conv2d<"conv2", w::c2, 3, same>(p1)));
constexpr auto h = tl::relu(tl::nn::linear<"fc1", w::h>(tl::flatten(p2)));
constexpr auto loss = tl::cross_entropy(tl::nn::linear<"fc2", w::out>(h), Y);

// With batch norm, for inference.
constexpr auto q1 = tl::max_pool2d<2>(tl::relu(tl::nn::batch_norm2d<"bn1">(tl::nn::conv2d<"conv1", w::c1, 3, same>(images))));
constexpr auto q2 = tl::max_pool2d<2>(tl::relu(tl::nn::batch_norm2d<"bn2">(tl::nn::conv2d<"conv2", w::c2, 3, same>(q1))));
constexpr auto logits_bn = tl::nn::linear<"fc2", w::out>(tl::relu(tl::nn::linear<"fc1", w::h>(tl::flatten(q2))));

constexpr std::string_view file_order[] = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                           "fc1.weight",   "fc1.bias",   "fc2.weight",   "fc2.bias"};

template <class Store>
void load_blob(Store& params, const std::vector<float>& blob) {
  std::size_t at = 0;
  for (std::string_view want : file_order)
    params.visit([&](std::string_view name, auto& value, auto&) {
      if (name != want) return;
      std::memcpy(value.data(), blob.data() + at, value.size() * sizeof(float));
      at += value.size();
    });
  if (at != blob.size()) throw std::runtime_error("tapeless_cnn: the weights blob does not match the store");
}

template <tl::fixed_string Name, class Store>
void fill_batch_norm(Store& params, int k) {
  auto& weight = params.template get<Name + tl::fixed_string(".weight")>();
  for (std::size_t c = 0; c < weight.size(); ++c) {
    const auto v = w::batch_norm_values(k, c);
    weight[c] = v.weight;
    params.template get<Name + tl::fixed_string(".bias")>()[c] = v.bias;
    params.template get<Name + tl::fixed_string(".running_mean")>()[c] = v.running_mean;
    params.template get<Name + tl::fixed_string(".running_var")>()[c] = v.running_var;
  }
}

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  const peers::w5_data data(d.dir());
  auto trainer = tl::compile(loss, tl::optim::sgd{.lr = w::lr, .momentum = w::momentum});
  // More than one thread: the programs are lent a pool (large convolutions and GEMMs split).
  tl::thread_pool pool(w::threads());
  if (pool.size() > 1) trainer.use_threads(&pool);
  auto params = tl::parameters_of(loss);
  constexpr std::size_t pixels = w::side * w::side;
  d.workload(
      "w5_train_b64",
      [&] {
        load_blob(params, data.weights);
        trainer.optimizer().reset();
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % w::batches) * w::batch;
        return double(trainer.step(params, X = std::span<const float, w::batch * pixels>(&data.x[s * pixels], w::batch * pixels),
                                   Y = std::span<const std::int32_t, w::batch>(&data.y[s], w::batch)));
      });
  auto predict = tl::compile(logits_bn);
  if (pool.size() > 1) predict.use_threads(&pool);
  auto evaluated = tl::parameters_of(logits_bn);
  d.workload(
      "w5bn_infer_b64",
      [&] {
        load_blob(evaluated, data.weights);
        fill_batch_norm<"bn1">(evaluated, 1);
        fill_batch_norm<"bn2">(evaluated, 2);
      },
      [&](std::uint64_t i) {
        const std::size_t s = (i % w::batches) * w::batch;
        const auto& y = predict(evaluated, X = std::span<const float, w::batch * pixels>(&data.x[s * pixels], w::batch * pixels));
        double sum = 0;  // every logit in the check value
        for (float v : y) sum += v;
        return sum;
      });
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "tapeless_cnn: %s\n", e.what());
  return 1;
}
