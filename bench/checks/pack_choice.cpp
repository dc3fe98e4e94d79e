// Which dense layers at batch 1 run faster with program::pack_weights (W^T
// kept by the program, read by broadcasts of x) than from the weights as
// stored (dot products ending in lane sums), per layer shape: the minimum
// over batches of 256 calls, the two interleaved, three rounds. A layer the
// rule of compile/packed_weights.hpp does not pack runs the same code both
// ways (ratio 1). Results: bench/results/batch1.md, round 7.
//
//   g++ -O3 -DNDEBUG -march=native -std=c++20 -Iinclude bench/checks/pack_choice.cpp -o pack_choice
//   g++ -O3 -DNDEBUG -mavx2 -mfma -std=c++20 -Iinclude bench/checks/pack_choice.cpp -o pack_choice_avx2
//   taskset -c 1 ./pack_choice
#include <tapeless/tapeless.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <span>
#include <vector>

namespace tl = tapeless;

template <std::size_t In, std::size_t Out>
struct layer {
  static constexpr auto X = tl::input<"X", float, 1, In>;
  static constexpr auto y = tl::nn::linear<"dense", Out>(X);
};

volatile float sink;

template <std::size_t In, std::size_t Out>
void probe() {
  using L = layer<In, Out>;
  auto params = tl::parameters_of(L::y);
  tl::init::xavier_uniform(params, 3);
  auto unpacked = tl::compile(L::y);
  auto packed = tl::compile(L::y);
  packed.pack_weights(params);
  std::vector<float> xs(1024 * In);
  std::mt19937 g(1);
  for (auto& v : xs) v = std::uniform_real_distribution<float>(-1, 1)(g);
  double best[2] = {1e300, 1e300};
  std::vector<double> all[2];
  std::size_t i = 0;
  for (int batch = 0; batch < 3000; ++batch)
    for (int which = 0; which < 2; ++which) {
      const auto t0 = std::chrono::steady_clock::now();
      float acc = 0;
      for (int c = 0; c < 256; ++c, ++i) {
        const auto x = std::span<const float, In>(&xs[(i % 1024) * In], In);
        acc += which ? packed(params, L::X = x).data()[i % Out] : unpacked(params, L::X = x).data()[i % Out];
      }
      const auto t1 = std::chrono::steady_clock::now();
      sink = sink + acc;
      const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / 256;
      best[which] = std::min(best[which], ns);
      all[which].push_back(ns);
    }
  for (auto& a : all) std::sort(a.begin(), a.end());
  std::printf("in %3zu out %3zu: unpacked %7.2f ns (median %7.2f), packed %7.2f ns (median %7.2f), packed/unpacked %.3f\n",
              In, Out, best[0], all[0][all[0].size() / 2], best[1], all[1][all[1].size() / 2], best[1] / best[0]);
}

int main() {
  for (int round = 0; round < 3; ++round) {
    probe<16, 8>();
    probe<16, 16>();
    probe<16, 24>();
    probe<16, 32>();
    probe<32, 16>();
    probe<32, 32>();
    probe<64, 16>();
    probe<32, 64>();
  }
}
