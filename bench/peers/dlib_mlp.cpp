// W1 and W2 with dlib's DNN module (Debian libdlib-dev) as its users train
// without dnn_trainer's threads: compute_parameter_gradients then
// update_parameters with one dlib::sgd solver per layer. The batches are
// converted to dlib tensors once, outside the timing.
//
// Two dlib conventions are matched to the others' computation:
// - loss_mean_squared's gradient is (y - t) / N, half the gradient of its
//   reported loss mean((y - t)^2): W1 uses twice the learning rate, so the
//   updates are those of SGD on the mean squared error at lr.
// - dlib::sgd(weight_decay, momentum) steps v = momentum v - lr g: the same
//   iterates as torch.optim.SGD's b = momentum b + g, p -= lr b at constant lr.

#include <dlib/dnn.h>

#include "common.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace peers = tapeless::bench::peers;

namespace {

using sample = dlib::matrix<float, 0, 1>;

template <int B>
using w1_net = dlib::loss_mean_squared<dlib::fc<peers::w1::out, dlib::htan<dlib::fc<peers::w1::hidden,
               dlib::htan<dlib::fc<peers::w1::hidden, dlib::input<sample>>>>>>>;
using w2_net = dlib::loss_multiclass_log<dlib::fc<peers::w2::out, dlib::relu<dlib::fc<peers::w2::h2,
               dlib::relu<dlib::fc<peers::w2::h1, dlib::input<sample>>>>>>>;

// A layer's params are [in + 1, out]: W^T, then the bias row.
template <class Layer>
const float* load_fc(Layer& layer, const float* p, long in, long out) {
  float* params = layer.layer_details().get_layer_params().host();
  for (long o = 0; o < out; ++o)
    for (long i = 0; i < in; ++i) params[i * out + o] = *p++;
  for (long o = 0; o < out; ++o) params[in * out + o] = *p++;
  return p;
}

// Builds a net's parameters by running it once on a batch of the right shape.
// (to_tensor once, so that the net knows its sample expansion factor.)
template <class Net>
void setup(Net& net, const dlib::resizable_tensor& x) {
  sample one(x.nr());
  one = 0;
  dlib::resizable_tensor scratch;
  net.to_tensor(&one, &one + 1, scratch);
  net.forward(x);
}

template <class Net>
void load3(Net& net, const std::vector<float>& w, long in, long h1, long h2, long out) {
  const float* p = w.data();
  p = load_fc(dlib::layer<5>(net), p, in, h1);
  p = load_fc(dlib::layer<3>(net), p, h1, h2);
  load_fc(dlib::layer<1>(net), p, h2, out);
}

dlib::resizable_tensor batch_tensor(const float* x, long batch, long features) {
  dlib::resizable_tensor t(batch, 1, features, 1);  // what input<matrix<float,0,1>> makes
  std::memcpy(t.host(), x, sizeof(float) * std::size_t(batch * features));
  return t;
}

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  {
    const peers::w1_data data(d.dir());
    namespace w = peers::w1;
    for (long b : {1L, 32L}) {
      auto net = std::make_unique<w1_net<1>>();
      const long pool = long(w::samples) / b;
      std::vector<dlib::resizable_tensor> xs;
      for (long k = 0; k < pool; ++k) xs.push_back(batch_tensor(&data.x[std::size_t(k * b) * w::in], b, w::in));
      std::vector<dlib::sgd> solvers(w1_net<1>::num_computational_layers, dlib::sgd(0, 0));
      d.workload(
          b == 1 ? "w1_train_b1" : "w1_train_b32",
          [&] {
            net = std::make_unique<w1_net<1>>();
            setup(*net, xs[0]);
            load3(*net, data.weights, w::in, w::hidden, w::hidden, w::out);
            solvers.assign(w1_net<1>::num_computational_layers, dlib::sgd(0, 0));
          },
          [&](std::uint64_t i) {
            const long k = long(i % std::uint64_t(pool));
            const double loss = net->compute_parameter_gradients(xs[std::size_t(k)], data.t.begin() + k * b);
            net->update_parameters(dlib::make_sstack(solvers), 2 * w::lr);
            return loss;
          });
    }
    auto net = std::make_unique<w1_net<1>>();
    std::vector<dlib::resizable_tensor> xs;
    for (std::size_t k = 0; k < w::samples; ++k) xs.push_back(batch_tensor(&data.x[k * w::in], 1, w::in));
    d.workload(
        "w1_infer_b1",
        [&] {
          setup(*net, xs[0]);
          load3(*net, data.weights, w::in, w::hidden, w::hidden, w::out);
        },
        [&](std::uint64_t i) { return double(net->forward(xs[i % w::samples]).host()[0]); });
  }
  {
    const peers::w2_data data(d.dir());
    namespace w = peers::w2;
    auto net = std::make_unique<w2_net>();
    std::vector<dlib::resizable_tensor> xs;
    for (std::size_t k = 0; k < w::batches; ++k)
      xs.push_back(batch_tensor(&data.x[k * w::batch * w::in], long(w::batch), long(w::in)));
    const std::vector<unsigned long> labels(data.y.begin(), data.y.end());
    std::vector<dlib::sgd> solvers;
    d.workload(
        "w2_train_b64",
        [&] {
          net = std::make_unique<w2_net>();
          setup(*net, xs[0]);
          load3(*net, data.weights, long(w::in), long(w::h1), long(w::h2), long(w::out));
          solvers.assign(w2_net::num_computational_layers, dlib::sgd(0, w::momentum));
        },
        [&](std::uint64_t i) {
          const std::size_t k = i % w::batches;
          const double loss = net->compute_parameter_gradients(xs[k], labels.begin() + long(k * w::batch));
          net->update_parameters(dlib::make_sstack(solvers), w::lr);
          return loss;
        });
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "dlib_mlp: %s\n", e.what());
  return 1;
}
