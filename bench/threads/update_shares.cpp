// One GEMM of W2 split in two shares, run alone and at once on two pinned
// cores, outside any program: what the second core does to a share when
// both compute. For fc1's and fc2's weight gradients (dY^T X, shared by
// rows, as compile/ shares them) with two epilogues: a plain store, and
// SGD with momentum fused as the trainer fuses it (the momentum and the
// weight read, updated and written in place). Each with the two shares'
// rows in one array (as in a parameter store), and in an array each.
//
//   ./build-bench/bench/threads/update_shares
//
// Prints the cache line round trip first (bench/threads/placement.hpp):
// across two chiplets (about 450 ns) the momentum update's shares ran 1.5-2.3x
// slower at once than alone, while the plain store's ran at their own speed;
// on one chiplet (about 110 ns) both ran at their own speed
// (bench/results/threads.md).

#include "harness.hpp"
#include "threads/placement.hpp"

#include <tapeless/simd/gemm.hpp>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

namespace simd = tapeless::simd;
using simd::op;
using clock_type = std::chrono::steady_clock;

bool pin_to(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// W -= lr * (m = momentum * m + g): the gradient never stored, as in the fused trainer.
struct momentum_update {
  float* weight;
  float* momentum;
  std::size_t columns;
  template <class V, class At>
  V operator()(const V& g, const At& at) const noexcept {
    const std::size_t i = at.row * columns + at.col;
    if constexpr (std::is_same_v<V, float>) {
      momentum[i] = 0.9f * momentum[i] + g;
      return weight[i] - 0.01f * momentum[i];
    } else {
      const V m = V(0.9f) * V::load_aligned(momentum + i) + g;
      m.store_aligned(momentum + i);
      return V::load_aligned(weight + i) - V(0.01f) * m;
    }
  }
};

std::vector<float*> owned;
float* zeros(std::size_t n) {
  auto* p = static_cast<float*>(std::aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096));
  std::fill(p, p + n, 0.f);
  owned.push_back(p);
  return p;
}

std::atomic<int> go{0}, done{0};

// Median microseconds of one repetition: share 0 alone (core 0), share 1 alone (core 1), both at once.
template <std::size_t M, std::size_t K, std::size_t N, bool Update>
void measure(const char* name, bool one_array) {
  constexpr int repetitions = 2000;
  const float* dy = zeros(M * K);  // dY stored K x M (the product reads its transpose)
  const float* x = zeros(K * N);
  float* w0 = zeros(M * N);
  float* m0 = zeros(M * N);
  float* w1 = one_array ? w0 : zeros(M * N);
  float* m1 = one_array ? m0 : zeros(M * N);
  std::fill(const_cast<float*>(dy), const_cast<float*>(dy) + M * K, 0.5f);
  std::fill(const_cast<float*>(x), const_cast<float*>(x) + K * N, 0.25f);
  auto share = [&](std::size_t part) {
    float* w = part == 0 ? w0 : w1;
    if constexpr (Update)
      simd::gemm_share<M, K, N, op::transpose, op::none>(dy, x, w, momentum_update{w, part == 0 ? m0 : m1, N}, part, 2);
    else
      simd::gemm_share<M, K, N, op::transpose, op::none>(dy, x, w, simd::epilogue::store{}, part, 2);
  };
  double median[3];
  for (int mode = 0; mode < 3; ++mode) {  // 0: share 0 alone, 1: share 1 alone, 2: both
    go = 0;
    done = 0;
    std::thread worker([&] {
      pin_to(1);
      for (int r = 0; r < repetitions; ++r) {
        while (go.load(std::memory_order_acquire) != r + 1) {
        }
        if (mode != 0) share(1);
        done.store(r + 1, std::memory_order_release);
      }
    });
    pin_to(0);
    std::vector<double> times;
    for (int r = 0; r < repetitions; ++r) {
      const auto start = clock_type::now();
      go.store(r + 1, std::memory_order_release);
      if (mode != 1) share(0);
      while (done.load(std::memory_order_acquire) != r + 1) {
      }
      times.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    }
    worker.join();
    std::sort(times.begin(), times.end());
    median[mode] = times[times.size() / 2];
  }
  std::printf("%-44s %-16s share 0 alone %6.1f us, share 1 alone %6.1f us, both at once %6.1f us (%.2fx)\n", name,
              one_array ? "one array" : "an array each", median[0], median[1], median[2],
              median[2] / std::max(median[0], median[1]));
}

}  // namespace

int main() {
  // Before any pinning: the probe pins its own threads and restores this one's affinity.
  const double round_trip = tapeless::bench::cache_line_round_trip_ns();
  if (!pin_to(1) || !pin_to(0)) {
    std::fprintf(stderr, "update_shares: needs cores 0 and 1\n");
    return 1;
  }
  std::printf("arch: %s; a cache line's round trip between two threads: %.0f ns\n", xsimd::default_arch::name(),
              round_trip);
  for (bool one_array : {true, false}) {
    measure<256, 64, 784, false>("fc1 weight gradient (256x64x784), store", one_array);
    measure<256, 64, 784, true>("fc1 weight gradient, momentum update", one_array);
    measure<128, 64, 256, false>("fc2 weight gradient (128x64x256), store", one_array);
    measure<128, 64, 256, true>("fc2 weight gradient, momentum update", one_array);
  }
  for (float* p : owned) std::free(p);
  return 0;
}
