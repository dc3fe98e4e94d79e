// The CNN of examples/fashion_mnist_cnn.cpp (conv-bn-relu-pool x2, 32 and
// 64 channels, linear 3136 -> 256, dropout, linear -> 10; SGD with
// momentum) stepped data-parallel on `mpirun -np N`, 64 rows per rank, with
// the gradients averaged after the backward pass or in buckets during it
// (data_parallel_options::overlap_backward): the case the overlap is for,
// since fc1.weight, 97% of the bytes, is whole once the head's backward has
// run, before the convolutions' backward pass, most of the step.
//
//   mpirun -np 2 ./build-bench/bench/dist/dist_cnn_steps [after|overlap] [steps] [bucket bytes]
//
// Rank 0 prints the step's wall time (median and 10th percentile over the
// steps, a barrier before each) and, overlapped, after which of the step's
// kernels each bucket went. The data are made up (timing only): the same
// batch every step.

#include <tapeless/tapeless.hpp>
#include <tapeless/dist.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace tl = tapeless;

namespace {

constexpr std::size_t rows = 64;
constexpr auto X = tl::input<"X", float, rows, 784>;
constexpr auto Y = tl::input<"Y", std::int32_t, rows>;
constexpr tl::nn::conv_options same{.padding = 1};
constexpr auto images = tl::reshape<rows, 1, 28, 28>(X);
constexpr auto block1 =
    tl::max_pool2d<2>(tl::relu(tl::nn::batch_norm2d<"bn1">(tl::nn::conv2d<"conv1", 32, 3, same>(images))));
constexpr auto block2 =
    tl::max_pool2d<2>(tl::relu(tl::nn::batch_norm2d<"bn2">(tl::nn::conv2d<"conv2", 64, 3, same>(block1))));
constexpr auto hidden = tl::nn::dropout<"drop", 0.3>(tl::relu(tl::nn::linear<"fc1", 256>(tl::flatten(block2))));
constexpr auto loss = tl::cross_entropy(tl::nn::linear<"fc2", 10>(hidden), Y);

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) try {
  tl::dist::environment mpi(argc, argv);
  tl::dist::communicator world;
  const std::string mode = argc > 1 ? argv[1] : "after";
  const std::size_t steps = argc > 2 ? std::stoul(argv[2]) : 100;
  tl::dist::data_parallel_options options;
  if (mode == "overlap")
    options.overlap_backward = true, options.bucket_bytes = argc > 3 ? std::stoul(argv[3]) : options.bucket_bytes;
  else if (mode != "after")
    throw std::invalid_argument("the mode is after or overlap, not " + mode);

  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::he_uniform(params, /*seed*/ 1);
  auto opt = tl::optim::optimizer(params, tl::optim::sgd{.lr = 0.01f, .momentum = 0.9f});
  program.seed(std::uint64_t(world.rank()));
  tl::dist::data_parallel ddp(world, program, opt, params, options);

  tl::random_stream rng{7 + std::uint64_t(world.rank())};
  tl::tensor<float, rows, 784> x;
  tl::tensor<std::int32_t, rows> y;
  for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = rng.uniform();
  for (std::size_t r = 0; r < rows; ++r) y[r] = static_cast<std::int32_t>(rng.below(10));

  for (int warm = 0; warm < 5; ++warm) ddp.step(params, X = x, Y = y);
  std::vector<double> seconds;
  float last = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    world.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    last = ddp.step(params, X = x, Y = y);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (world.is_root()) {
    std::printf("ranks %d, %s: step median %.2f ms, p10 %.2f ms over %zu steps (loss %.4f); %zu kernels",
                world.size(), mode.c_str(), 1e3 * quantile(seconds, 0.5), 1e3 * quantile(seconds, 0.1), steps, last,
                decltype(program)::training_kernels);
    if (ddp.overlaps_backward()) {
      std::printf("; %zu buckets, %zu during the kernels, going after kernels", ddp.bucket_count(),
                  ddp.buckets_overlapped());
      for (std::size_t b = 0; b < ddp.bucket_count(); ++b) std::printf(" %zu", ddp.bucket_start(b));
    }
    std::printf("\n");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "dist_cnn_steps: %s\n", e.what());
  return 1;
}
