#pragma once
// Two shares of a weight-gradient GEMM (dY^T X, shared by rows as compile/
// shares them) run on two pinned cores, each alone and both at once, with a
// plain store or with SGD with momentum fused as the trainer fuses it (the
// weight and its momentum read, updated and written in place). The ratio of
// "at once" to "alone" for the fused update is the machine's state for
// threaded work: on the 2-core virtual machine of bench/results/threads.md it
// reads about 1.0 when W2 on two threads reaches 1.8x and 1.5-2.3 when W2
// reads 1.1-1.4x, whatever the cores' round trip; the host changes it
// within minutes. bench/threads/update_shares prints the whole table,
// threads_w2 the ratio before and after its figures.

#include <tapeless/simd/gemm.hpp>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <vector>

namespace tapeless::bench {

namespace update_probe {

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

inline bool pin_to(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Page-aligned zeroed floats, freed with the object.
struct buffer {
  float* data;
  explicit buffer(std::size_t n, float value = 0.f)
      : data(static_cast<float*>(std::aligned_alloc(4096, (n * sizeof(float) + 4095) / 4096 * 4096))) {
    std::fill(data, data + n, value);
  }
  ~buffer() { std::free(data); }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
};

struct timings {
  double share0_alone, share1_alone, both;  // median microseconds of one repetition
  double ratio() const { return both / std::max(share0_alone, share1_alone); }
};

// The two shares of the M x K x N product dY^T X on cores 0 and 1 (the
// caller's affinity is restored); the weight and momentum of both shares in
// one array each (as in a parameter store), or, with one_array false, in an
// array per share. Quiet NaNs when this process may not use cores 0 and 1.
template <std::size_t M, std::size_t K, std::size_t N, bool Update>
timings measure(bool one_array = true, int repetitions = 2000) {
  namespace simd = tapeless::simd;
  using simd::op;
  using clock_type = std::chrono::steady_clock;
  cpu_set_t caller;
  pthread_getaffinity_np(pthread_self(), sizeof caller, &caller);
  if (!pin_to(1) || !pin_to(0)) {
    pthread_setaffinity_np(pthread_self(), sizeof caller, &caller);
    const double nan = std::nan("");
    return {nan, nan, nan};
  }
  const buffer dy(M * K, 0.5f), x(K * N, 0.25f);  // dY stored K x M: the product reads its transpose
  const buffer w_first(M * N), m_first(M * N), w_second(one_array ? 1 : M * N), m_second(one_array ? 1 : M * N);
  float* w[2] = {w_first.data, one_array ? w_first.data : w_second.data};
  float* m[2] = {m_first.data, one_array ? m_first.data : m_second.data};
  const auto share = [&](std::size_t part) {
    if constexpr (Update)
      simd::gemm_share<M, K, N, op::transpose, op::none>(dy.data, x.data, w[part],
                                                         momentum_update{w[part], m[part], N}, part, 2);
    else
      simd::gemm_share<M, K, N, op::transpose, op::none>(dy.data, x.data, w[part], simd::epilogue::store{}, part, 2);
  };
  double median[3];
  for (int mode = 0; mode < 3; ++mode) {  // 0: share 0 alone, 1: share 1 alone, 2: both
    alignas(64) std::atomic<int> go{0};
    alignas(64) std::atomic<int> done{0};
    std::thread worker([&] {
      pin_to(1);
      for (int r = 0; r < repetitions; ++r) {
        while (go.load(std::memory_order_acquire) != r + 1) {
        }
        if (mode != 0) share(1);
        done.store(r + 1, std::memory_order_release);
      }
    });
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
  pthread_setaffinity_np(pthread_self(), sizeof caller, &caller);
  return {median[0], median[1], median[2]};
}

}  // namespace update_probe

// fc1's weight gradient of W2 (256 x 64 x 784) with the fused momentum
// update: its shares' time at once over their time alone.
inline double fused_update_ratio() { return update_probe::measure<256, 64, 784, true>(true, 1000).ratio(); }

}  // namespace tapeless::bench
