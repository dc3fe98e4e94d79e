// The Fashion-MNIST epoch (examples/fashion_mnist_mlp.cpp's model: 784-256-
// 128-10, ReLU, softmax cross-entropy, Adam) trained data-parallel with
// tl::dist on `mpirun -np N`, N = 1 or 2, timed per epoch.
//
//   mpirun -np 1 ./build-bench/bench/dist/dist_fashion_mnist [global|per-rank|half][-sharded|-overlap] [epochs] [data directory]
//   mpirun -np 2 ./build-bench/bench/dist/dist_fashion_mnist [global|per-rank|half][-sharded|-overlap] [epochs] [data directory]
//   bench/dist/run.sh  (both, interleaved)
//
// global (the default): a global batch of 64, 64 / N rows per rank, so N
// ranks train exactly as one process does (the same steps, up to float
// summation order). per-rank: 64 rows per rank, a global batch of 64 * N
// (fewer, larger steps per epoch). half: 32 rows per rank (on -np 1: what
// each rank computes in the global run on 2, without the communication).
// A mode ending in -sharded (per-rank-sharded) steps with data_parallel's
// sharded update: each rank updates its part of the parameters; one ending
// in -overlap reduces the gradients in buckets during the backward pass
// (overlap_backward, buckets of 64 KiB: the output layers' gradients, then
// the first layer's; TAPELESS_BENCH_BUCKET_BYTES sets another size).
// Rank 0 prints, per epoch, the wall time of
// the training loop alone (a barrier before and after; the data loader's
// copies included), the mean loss, and this rank's CPU time; then the median
// epoch and the cost of one MPI_Allreduce of the step's buffer alone.
//
// The data are Debian's dataset-fashion-mnist package by default, as in the example.

#include <tapeless/tapeless.hpp>
#include <tapeless/dist.hpp>
#include <tapeless/train/fashion_mnist.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace tl = tapeless;

namespace {

constexpr std::size_t global_batch = 64;

template <std::size_t B>
constexpr auto mlp_logits() {
  constexpr auto X = tl::input<"X", float, B, 784>;
  constexpr auto standardized = (X - tl::c<286, 1000>) * tl::c<1000, 353>;
  constexpr auto h1 = tl::relu(tl::nn::linear<"fc1", 256>(standardized));
  constexpr auto h2 = tl::relu(tl::nn::linear<"fc2", 128>(h1));
  return tl::nn::linear<"fc3", 10>(h2);
}
template <std::size_t B>
constexpr auto mlp_loss() {
  return tl::cross_entropy(mlp_logits<B>(), tl::input<"Y", std::int32_t, B>);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Trains `epochs` epochs with batches of B rows on this rank; returns nothing,
// prints on rank 0.
template <std::size_t B>
void run(const tl::dist::communicator& world, const tl::train::dataset<784>& data, std::size_t epochs,
         const char* mode, std::size_t shards, tl::dist::data_parallel_options options) {
  constexpr auto X = tl::input<"X", float, B, 784>;
  constexpr auto Y = tl::input<"Y", std::int32_t, B>;
  auto program = tl::compile(mlp_loss<B>());
  auto params = tl::parameters_of(mlp_loss<B>());
  tl::init::he_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::adam{.lr = 1e-3f});
  tl::dist::data_parallel ddp(world, program, opt, params, options);
  // tl::dist::training_batches<B>(world, data, 42) but for the shard count,
  // which half mode fixes at 2 on one rank too.
  auto train = tl::train::batch_loader<B, 784>(
      data, {.seed = 42, .shard = {.index = std::size_t(world.rank()), .count = shards}});

  if (world.is_root())
    std::printf("ranks %d, %s batch: %zu rows per rank, %zu global; %zu steps per epoch; %zu parameters, %zu KiB "
                "reduced per step; gradients reduced %s%s, update %s\n",
                world.size(), mode, B, B * shards, train.batches(),
                decltype(params)::scalar_count, decltype(ddp)::reduced_bytes / 1024,
                ddp.reduces_in_place() ? "in place" : "through a buffer",
                ddp.overlaps_backward() ? (", " + std::to_string(ddp.bucket_count()) + " buckets during the backward pass").c_str() : "",
                ddp.shards_update() ? "sharded (each rank its part)" : "whole on every rank");
  // With one rank, each epoch is followed by one of the program and optimizer
  // stepping without tl::dist: the cost of data_parallel's copies alone.
  std::vector<double> seconds, cpu_seconds_per_epoch, local_seconds, local_cpu;
  // Every step's wall time (the loader's copy included): on a busy machine
  // the fastest tenth are the steps both ranks ran undisturbed, so the 10th
  // percentile times the steps estimates a quiet machine's epoch.
  std::vector<double> step_seconds;
  step_seconds.reserve(epochs * train.batches());
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    world.barrier();
    double cpu0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    double loss = 0;
    auto t_step = std::chrono::steady_clock::now();
    for (const auto& b : train.epoch(epoch)) {
      loss += ddp.step(params, X = b.features, Y = b.targets);
      const auto now = std::chrono::steady_clock::now();
      step_seconds.push_back(std::chrono::duration<double>(now - t_step).count());
      t_step = now;
    }
    world.barrier();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpu_seconds() - cpu0;
    seconds.push_back(wall);
    cpu_seconds_per_epoch.push_back(cpu);
    if (world.is_root())
      std::printf("epoch %zu: %.3f s, mean loss %.4f, rank 0 CPU %.3f s\n", epoch, wall,
                  loss / double(train.batches()), cpu);
    if (world.size() == 1) {
      cpu0 = cpu_seconds();
      t0 = std::chrono::steady_clock::now();
      for (const auto& b : train.epoch(epoch)) {
        program.step(params, X = b.features, Y = b.targets);
        opt.step(params);
      }
      local_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      local_cpu.push_back(cpu_seconds() - cpu0);
    }
  }
  if (world.is_root() && !local_seconds.empty())
    std::printf("without tl::dist (program.step + opt.step): median epoch %.3f s, CPU %.3f s; with: %.3f s, CPU %.3f s\n",
                median(local_seconds), median(local_cpu), median(seconds), median(cpu_seconds_per_epoch));
  if (world.is_root()) {
    std::sort(step_seconds.begin(), step_seconds.end());
    const double p10 = step_seconds[step_seconds.size() / 10];
    std::printf("ranks %d, %s batch%s: step p10 %.1f us, median %.1f us; p10 x %zu steps = %.3f s per epoch\n",
                world.size(), mode,
                ddp.shards_update() ? ", sharded update" : ddp.overlaps_backward() ? ", overlapped reduction" : "", 1e6 * p10, 1e6 * median(step_seconds), train.batches(),
                p10 * double(train.batches()));
  }
  if (!tl::dist::parameters_agree(world, params)) std::fprintf(stderr, "rank %d: parameters drifted\n", world.rank());

  // Allreduces of the step's buffer alone, each timed: the minimum is what
  // one costs when both ranks run, even on a busy machine.
  std::vector<float> buffer(decltype(ddp)::reduced_count, 1.0f);
  std::vector<double> each;
  for (int r = 0; r < 200; ++r) {
    world.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    MPI_Allreduce(MPI_IN_PLACE, buffer.data(), int(buffer.size()), MPI_FLOAT, MPI_SUM, world.native());
    each.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (world.is_root())
    std::printf("ranks %d, %s batch: median epoch %.3f s (min %.3f, max %.3f) over %zu epochs, rank 0 CPU %.3f s; "
                "one allreduce of %zu KiB: median %.1f us, min %.1f us\n",
                world.size(), mode, median(seconds), *std::min_element(seconds.begin(), seconds.end()),
                *std::max_element(seconds.begin(), seconds.end()), seconds.size(), median(cpu_seconds_per_epoch),
                decltype(ddp)::reduced_bytes / 1024, 1e6 * median(each), 1e6 * *std::min_element(each.begin(), each.end()));
}

}  // namespace

int main(int argc, char** argv) try {
  tl::dist::environment mpi(argc, argv);
  tl::dist::communicator world;
  std::string mode = argc > 1 ? argv[1] : "global";
  // A mode ending in -sharded: data_parallel's sharded update (shard_update);
  // in -overlap: the reduction in buckets during the backward pass.
  tl::dist::data_parallel_options options;
  if (mode.ends_with("-sharded")) {
    options.shard_update = true;
    mode.resize(mode.size() - std::string_view("-sharded").size());
  } else if (mode.ends_with("-overlap")) {
    options.overlap_backward = true, options.bucket_bytes = 64 * 1024;
    if (const char* bytes = std::getenv("TAPELESS_BENCH_BUCKET_BYTES")) options.bucket_bytes = std::stoul(bytes);
    mode.resize(mode.size() - std::string_view("-overlap").size());
  }
  const std::size_t epochs = argc > 2 ? std::stoul(argv[2]) : 3;
  const std::filesystem::path directory =
      argc > 3 ? std::filesystem::path(argv[3]) : tl::train::fashion_mnist_debian_directory();
  // Every rank reads the files: no data moves between ranks.
  const auto data = tl::train::load_fashion_mnist(tl::train::fashion_mnist_split::train, directory);

  const std::size_t ranks = std::size_t(world.size());
  if (mode == "per-rank")
    run<global_batch>(world, data, epochs, "per-rank", ranks, options);
  else if (mode == "half")  // one rank's share of the global batch on 2 ranks; on -np 1, that work alone
    run<global_batch / 2>(world, data, epochs, "half", std::max<std::size_t>(ranks, 2), options);
  else if (mode != "global")
    throw std::invalid_argument("the mode is global, per-rank or half, not " + mode);
  else if (ranks == 1)
    run<global_batch>(world, data, epochs, "global", 1, options);
  else if (ranks == 2)
    run<global_batch / 2>(world, data, epochs, "global", 2, options);
  else
    throw std::invalid_argument("global batch mode is built for 1 or 2 ranks (add run<64 / N> for N)");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "dist_fashion_mnist: %s\n", e.what());
  return 1;
}
