// The attention products of examples/tiny_transformer at its shapes (4 heads
// of width 16 over 64 positions, batch 32: 128 entries), as compiled programs:
// the scores Q K^T (K read transposed in place) and the weighted values P V,
// forward and one training step (both operands' gradients: the other
// batch_matmul shapes and transposes). For a before/after comparison of the
// batch_matmul kernel, build it against each tree and run the binaries in turn
// (bench/kernels/meson.build builds it too, as kernels_attention_products):
//
//   g++ -std=c++20 -O2 -march=native -DNDEBUG -I<tree>/include -Ibench bench/kernels/attention_products.cpp -o attention_products
//   TAPELESS_BENCH_CLOCK=cpu ./attention_products

#include <tapeless/tapeless.hpp>

#include "harness.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace tl = tapeless;
using tapeless::bench::benchmark;
using tapeless::bench::clobber_memory;

namespace {

constexpr std::size_t entries = 128, positions = 64, head_width = 16;

constexpr auto Q = tl::param<"Q", float, entries, positions, head_width>;
constexpr auto K = tl::param<"K", float, entries, positions, head_width>;
constexpr auto P = tl::param<"P", float, entries, positions, positions>;
constexpr auto V = tl::param<"V", float, entries, positions, head_width>;
constexpr auto scores = tl::batch_matmul(Q, tl::batch_transpose(K));
constexpr auto weighted = tl::batch_matmul(P, V);

template <class Params>
void fill(Params& params) {
  tl::init::xavier_uniform(params, /*seed*/ 3);
}

template <class Expression>
void time(const char* title, const Expression& e) {
  auto params = tl::parameters_of(e);
  fill(params);
  auto forward = tl::compile(e);
  const auto loss = tl::sum(e * e);
  auto training = tl::compile(loss);
  benchmark b(title);
  b.add("forward", [&](std::uint64_t) {
    tapeless::bench::do_not_optimize(forward(params)(0, 0, 0));
    clobber_memory();
  });
  b.add("training step", [&](std::uint64_t) {
    tapeless::bench::do_not_optimize(training.step(params));
    clobber_memory();
  });
  b.run();
  b.print();
}

}  // namespace

int main() {
  std::printf("arch: %s; medians over interleaved repetitions\n", xsimd::default_arch::name());
  time("scores Q K^T, 128 x [64, 16] x [16, 64]", scores);
  time("weighted values P V, 128 x [64, 64] x [64, 16]", weighted);
  return 0;
}
