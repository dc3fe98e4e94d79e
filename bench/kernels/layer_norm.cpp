// Layer norm over the last axis as compiled programs, at a transformer's
// shapes (rows of 64, 768 and 4096 floats): the forward call and one
// training step of sum(layer_norm(P) * B) (the normalization, its backward
// node, the weight's and bias's gradients). For a before/after comparison,
// build it against each tree and run the binaries in turn
// (bench/kernels/meson.build builds it too, as kernels_layer_norm);
// bench/kernels/layer_norm_torch.py times PyTorch's on the same shapes.
//
//   g++ -std=c++20 -O3 -march=native -DNDEBUG -I<tree>/include -Ibench bench/kernels/layer_norm.cpp -o layer_norm
//   TAPELESS_BENCH_CLOCK=cpu taskset -c 1 ./layer_norm

#include <tapeless/compile.hpp>
#include <tapeless/nn.hpp>

#include "harness.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace tl = tapeless;
using tapeless::bench::benchmark;
using tapeless::bench::clobber_memory;

namespace {

template <std::size_t Rows, std::size_t D>
void time(const char* title) {
  constexpr auto P = tl::param<"P", float, Rows, D>;
  constexpr auto B = tl::input<"B", float, Rows, D>;
  constexpr auto loss = tl::sum(tl::nn::layer_norm<"ln">(P) * B);
  auto params = tl::parameters_of(loss);
  tl::tensor<float, Rows, D> b;
  for (std::size_t i = 0; i < b.size(); ++i) {
    b[i] = std::cos(0.1f * float(i));
    params.template get<"P">()[i] = std::sin(0.37f * float(i));
  }
  auto program = tl::compile(loss);
  benchmark bench(title);
  bench.add("forward", [&](std::uint64_t) {
    tapeless::bench::do_not_optimize(program(params, B = b));
    clobber_memory();
  });
  bench.add("training step", [&](std::uint64_t) {
    tapeless::bench::do_not_optimize(program.step(params, B = b));
    clobber_memory();
  });
  bench.run();
  bench.print();
  std::printf("  kernels: forward %zu, training step %zu\n", decltype(program)::forward_kernels,
              decltype(program)::training_kernels);
}

}  // namespace

int main() {
  std::printf("arch: %s; medians over interleaved repetitions\n", xsimd::default_arch::name());
  time<2048, 64>("layer norm [2048, 64]");
  time<512, 768>("layer norm [512, 768]");
  time<64, 4096>("layer norm [64, 4096]");
  return 0;
}
