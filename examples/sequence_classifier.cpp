// Fashion-MNIST read as sequences: each image is 28 rows of 28 pixels, fed
// to an LSTM one row per time step; the last step's state goes through a
// linear layer to the 10 classes. Trained with Adam on mini-batches of 64
// under a cosine schedule, with a 5,000-image validation split and early
// stopping, then evaluated on the 10,000-image test set.
//
//   ./build/examples/sequence_classifier [data directory] [epochs]
//
// The LSTM is one scan over the 28 steps (DESIGN principle 7): its step is
// compiled once, and its gradient is backpropagation through time.

#include <tapeless/tapeless.hpp>
#include <tapeless/train/fashion_mnist.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

namespace tl = tapeless;

constexpr std::size_t batch_size = 64, rows = 28, columns = 28, hidden = 128;
// A batch of images, read as [batch, 28 steps, 28 features] (the same
// memory as the loader's [batch, 784]).
constexpr auto X = tl::input<"X", float, batch_size, rows, columns>;
constexpr auto Y = tl::input<"Y", std::int32_t, batch_size>;

constexpr auto standardized = (X - tl::c<286, 1000>) * tl::c<1000, 353>;
constexpr auto states = tl::nn::lstm<"lstm", hidden>(standardized);  // [64, 28, 128]
constexpr auto last = tl::reshape<batch_size, hidden>(tl::slice<1, rows - 1, rows>(states));
constexpr auto logits = tl::nn::linear<"fc", 10>(last);
constexpr auto loss = tl::cross_entropy(logits, Y);

int main(int argc, char** argv) try {
  const std::filesystem::path directory =
      argc > 1 ? std::filesystem::path(argv[1]) : tl::train::fashion_mnist_debian_directory();
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 8;

  // 55,000 training, 5,000 validation (seeded) and 10,000 test images in batches.
  tl::train::fashion_mnist_batches<batch_size> data(directory);

  auto trainer = tl::compile(loss);
  auto predict = tl::compile(logits);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 2e-3f});
  const tl::optim::cosine_annealing schedule{.t_max = epochs};
  tl::train::early_stopping<decltype(params)> stop({.patience = 3});

  std::printf("model: LSTM %zu over %zu steps of %zu, then linear to 10; %zu parameters; "
              "training program: %zu kernels, %zu KiB of buffers\n",
              hidden, rows, columns, decltype(params)::scalar_count, decltype(trainer)::training_kernels,
              decltype(trainer)::arena_bytes / 1024);

  tl::train::fit(
      data.train, &data.validation,
      [&](const auto& batch) {
        const float l = trainer.step(params, X = batch.features, Y = batch.targets);
        opt.step(params);
        return l;
      },
      [&](const auto& batch) { return tl::train::classifier_logits(predict(params, X = batch.features)); },
      {.epochs = epochs,
       .progress = &std::cout,
       .log_file = "sequence_classifier.csv",
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
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sequence_classifier: %s\n", e.what());
  return 1;
}
