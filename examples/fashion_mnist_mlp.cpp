// Fashion-MNIST with a 784-256-128-10 perceptron (ReLU, softmax cross-entropy),
// trained with Adam on mini-batches of 64 for 10 epochs under a cosine learning
// rate schedule, with a seeded 5,000-image validation split, early stopping that
// keeps the best weights, a progress line per epoch and a CSV log, then
// evaluated on the full 10,000-image test set.
//
//   ./build/examples/fashion_mnist_mlp [data directory] [epochs]
//
// The data are Debian's dataset-fashion-mnist package by default.

#include <tapeless/tapeless.hpp>
#include <tapeless/train/fashion_mnist.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

namespace tl = tapeless;

constexpr std::size_t batch_size = 64;
constexpr auto X = tl::input<"X", float, batch_size, 784>;
constexpr auto Y = tl::input<"Y", std::int32_t, batch_size>;

// Pixels standardized with the training set's mean and standard deviation
// (0.286, 0.353), inside the graph: exact constants, one fused loop.
constexpr auto standardized = (X - tl::c<286, 1000>) * tl::c<1000, 353>;
constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", 256>(standardized));
constexpr auto h2 = tl::relu(tl::nn::linear<"fc2", 128>(h1));
constexpr auto logits = tl::nn::linear<"fc3", 10>(h2);
constexpr auto loss = tl::cross_entropy(logits, Y);

int main(int argc, char** argv) try {
  const std::filesystem::path directory =
      argc > 1 ? std::filesystem::path(argv[1]) : tl::train::fashion_mnist_debian_directory();
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 10;

  // 55,000 training, 5,000 validation (seeded) and 10,000 test images in batches.
  tl::train::fashion_mnist_batches<batch_size> data(directory);

  // The training step (forward and backward) and the inference pass, as types.
  // The training step also keeps the logits it computes: the training accuracy
  // in the progress line costs no second forward pass.
  auto trainer = tl::compile(loss, tl::step_output(logits));
  auto predict = tl::compile(logits);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
  const tl::optim::cosine_annealing schedule{.t_max = epochs};
  tl::train::early_stopping<decltype(params)> stop({.patience = 3});

  std::printf("model: 784-256-128-10, %zu parameters; training program: %zu kernels, %zu KiB of buffers\n",
              decltype(params)::scalar_count, decltype(trainer)::training_kernels,
              decltype(trainer)::arena_bytes / 1024);
  std::printf("data: %zu training, %zu validation, %zu test images\n", data.split.train.size(),
              data.split.validation.size(), data.test_data.size());

  tl::train::fit(
      data.train, &data.validation,
      [&](const auto& batch) {
        const float l = trainer.step(params, X = batch.features, Y = batch.targets);
        opt.step(params);
        return tl::train::classifier_step(l, trainer.step_output());
      },
      [&](const auto& batch) { return tl::train::classifier_logits(predict(params, X = batch.features)); },
      {.epochs = epochs,
       .progress = &std::cout,
       .log_file = "fashion_mnist_mlp.csv",
       .learning_rate = [&] { return double(opt.lr()); },
       // Epochs count from 0 in fit and in schedules alike: epoch e trains at the schedule's lr of e.
       .on_epoch_begin = [&](std::size_t epoch) { tl::optim::apply_schedule(opt, schedule, epoch); },
       .on_epoch_end =
           [&](const tl::train::epoch_metrics& m) {
             return !stop.update(m.epoch, m.val_loss, params);
           }});
  stop.restore_best(params);

  const auto tested =
      tl::train::evaluate_classifier(data.test, [&](const auto& batch) { return predict(params, X = batch.features); });
  std::printf("best epoch: %zu (validation loss %.4f)\n", stop.best_epoch(), stop.best_value());
  std::printf("test loss: %.4f\n", tested.loss());
  std::printf("test accuracy: %.4f\n", tested.accuracy());
  tl::io::save(params, "fashion_mnist_mlp.safetensors");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fashion_mnist_mlp: %s\n", e.what());
  return 1;
}
