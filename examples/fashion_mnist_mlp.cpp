// Fashion-MNIST with a 784-256-128-10 perceptron (ReLU, softmax cross-entropy),
// trained with Adam on mini-batches of 64 for 10 epochs under a cosine learning
// rate schedule, with a seeded 5,000-image validation split, early stopping that
// keeps the best weights, a progress line per epoch and a CSV log, then
// evaluated on the full 10,000-image test set.
//
//   ./build/examples/fashion_mnist_mlp [data directory] [epochs]
//   mpirun -np 2 ./build/examples/fashion_mnist_mlp [data directory] [epochs]
//
// Built where Meson finds MPI (TAPELESS_EXAMPLE_MPI), the same program trains
// data-parallel under mpirun (tl::dist, docs/distributed.md): the N ranks
// (N = 1, 2 or 4) share each batch of 64, 64 / N rows each, and average their
// gradients before each update, so they train as one process does (to float
// rounding); rank 0 alone prints and writes files.
//
// The data are Debian's dataset-fashion-mnist package by default.

#include <tapeless/tapeless.hpp>
#include <tapeless/train/fashion_mnist.hpp>
#ifndef TAPELESS_EXAMPLE_MPI
#define TAPELESS_EXAMPLE_MPI 0
#endif
#if TAPELESS_EXAMPLE_MPI
#include <tapeless/dist.hpp>
#endif

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace tl = tapeless;

constexpr std::size_t batch_size = 64;

// The model on R rows: a batch of 64 on one process, a rank's share on N.
template <std::size_t R>
constexpr auto X = tl::input<"X", float, R, 784>;
template <std::size_t R>
constexpr auto Y = tl::input<"Y", std::int32_t, R>;

// Pixels standardized with the training set's mean and standard deviation
// (0.286, 0.353), inside the graph: exact constants, one fused loop.
template <std::size_t R>
constexpr auto logits = [] {
  constexpr auto standardized = (X<R> - tl::c<286, 1000>) * tl::c<1000, 353>;
  constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", 256>(standardized));
  constexpr auto h2 = tl::relu(tl::nn::linear<"fc2", 128>(h1));
  return tl::nn::linear<"fc3", 10>(h2);
}();
template <std::size_t R>
constexpr auto loss = tl::cross_entropy(logits<R>, Y<R>);

#if TAPELESS_EXAMPLE_MPI
using processes = tl::dist::communicator;  // the ranks mpirun started (one without mpirun)
#else
// Built without MPI: one process.
struct processes {
  int rank() const { return 0; }
  int size() const { return 1; }
  bool is_root() const { return true; }
};
#endif

// Trains with batches of 64 split into R rows on each of 64 / R processes.
template <std::size_t R>
void train(const processes& world, tl::train::fashion_mnist_batches<batch_size>& data, std::size_t epochs) {
  // The training step (forward and backward) and the inference pass, as types.
  // The training step also keeps the logits it computes: the training accuracy
  // in the progress line costs no second forward pass (on N ranks it is rank
  // 0's rows', the loss the whole batch's).
  auto trainer = tl::compile(loss<R>, tl::step_output(logits<R>));
  auto predict = tl::compile(logits<batch_size>);
  auto params = tl::parameters_of(loss<R>);
  tl::init::he_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
  const tl::optim::cosine_annealing schedule{.t_max = epochs};
  tl::train::early_stopping<decltype(params)> stop({.patience = 3});
#if TAPELESS_EXAMPLE_MPI
  // Gives every rank rank 0's weights; each step averages the ranks' gradients,
  // and each rank updates its part of the weights (the optimizer's state is
  // not saved here, so each rank keeping its part current is enough).
  tl::dist::data_parallel ddp(world, trainer, opt, params, {.shard_update = true});
  auto step = [&](const auto& b) { return ddp.step(params, X<R> = b.features, Y<R> = b.targets); };
#else
  auto step = [&](const auto& b) {
    const float l = trainer.step(params, X<R> = b.features, Y<R> = b.targets);
    opt.step(params);
    return l;
  };
#endif
  // Every process shuffles the same order; process r takes rows [r * R, (r + 1) * R) of each batch of 64.
  tl::train::batch_loader<R, 784> shard(
      data.train_data, data.split.train,
      {.seed = 42, .shard = {.index = std::size_t(world.rank()), .count = std::size_t(world.size())}});

  if (world.is_root()) {
    std::printf("model: 784-256-128-10, %zu parameters; training program: %zu kernels, %zu KiB of buffers\n",
                decltype(params)::scalar_count, decltype(trainer)::training_kernels,
                decltype(trainer)::arena_bytes / 1024);
    std::printf("data: %zu training, %zu validation, %zu test images\n", data.split.train.size(),
                data.split.validation.size(), data.test_data.size());
    if (world.size() > 1) std::printf("processes: %d, each with %zu rows of every batch of %zu\n", world.size(), R, batch_size);
  }

  // Every process validates (the same result everywhere), so all stop together.
  tl::train::fit(
      shard, &data.validation,
      [&](const auto& batch) { return tl::train::classifier_step(step(batch), trainer.step_output()); },
      [&](const auto& batch) { return tl::train::classifier_logits(predict(params, X<batch_size> = batch.features)); },
      {.epochs = epochs,
       .progress = world.is_root() ? &std::cout : nullptr,
       .log_file = world.is_root() ? "fashion_mnist_mlp.csv" : "",
       .learning_rate = [&] { return double(opt.lr()); },
       // Epochs count from 0 in fit and in schedules alike: epoch e trains at the schedule's lr of e.
       .on_epoch_begin = [&](std::size_t epoch) { tl::optim::apply_schedule(opt, schedule, epoch); },
       .on_epoch_end =
           [&](const tl::train::epoch_metrics& m) {
             return !stop.update(m.epoch, m.val_loss, params);
           }});
  stop.restore_best(params);
  if (!world.is_root()) return;

  const auto tested = tl::train::evaluate_classifier(
      data.test, [&](const auto& batch) { return predict(params, X<batch_size> = batch.features); });
  std::printf("best epoch: %zu (validation loss %.4f)\n", stop.best_epoch(), stop.best_value());
  std::printf("test loss: %.4f\n", tested.loss());
  std::printf("test accuracy: %.4f\n", tested.accuracy());
  tl::io::save(params, "fashion_mnist_mlp.safetensors");
}

int main(int argc, char** argv) try {
#if TAPELESS_EXAMPLE_MPI
  tl::dist::environment mpi(argc, argv);  // MPI_Init, and MPI_Finalize at the end
#endif
  const processes world;
  const std::filesystem::path directory =
      argc > 1 ? std::filesystem::path(argv[1]) : tl::train::fashion_mnist_debian_directory();
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 10;

  // 55,000 training, 5,000 validation (seeded) and 10,000 test images in batches.
  // Every process reads them all: no data move between processes.
  tl::train::fashion_mnist_batches<batch_size> data(directory);

  if (world.size() == 1)
    train<batch_size>(world, data, epochs);
  else if constexpr (TAPELESS_EXAMPLE_MPI) {
    if (world.size() == 2)
      train<batch_size / 2>(world, data, epochs);
    else if (world.size() == 4)
      train<batch_size / 4>(world, data, epochs);
    else
      throw std::invalid_argument("built for 1, 2 or 4 processes (they share batches of 64), not " +
                                  std::to_string(world.size()));
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fashion_mnist_mlp: %s\n", e.what());
  return 1;
}
