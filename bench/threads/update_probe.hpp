#pragma once
// Two shares of a weight-gradient GEMM (dY^T X, shared by rows as compile/
// shares them) run on two pinned cores, each alone and both at once, with a
// plain store or with SGD with momentum fused as the trainer fuses it (the
// weight and its momentum read, updated and written in place).
//
// The machine's state for threaded work: the fused update's shares run
// with column blocks outside (each tile's rows strided through the weight
// and its momentum, the order simd::gemm_share used for them until
// 2026-12-06): their time at once over their time alone reads about 1.0 on
// the 2-core virtual machine of bench/results/threads.md when W2 on two
// threads reached 1.8x, and 1.5-2.3 when W2 read 1.1-1.4x, whatever the
// cores' round trip; the host changes it within minutes. simd::gemm_share
// now runs such shares row tile by row tile (simd/gemm.hpp), which the slow
// state hardly touches: the probe keeps the old order because that is what
// shows the state. bench/threads/update_shares prints the table, threads_w2
// and machine_state the ratio.

#include "threads/placement.hpp"

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

// Share `part` of `parts` of C = dY^T X with column blocks outside, every
// tile's rows strided (the kernel simd::gemm_share takes, its columns swept
// in the order it used to sweep them).
template <std::size_t M, std::size_t K, std::size_t N, class Epilogue>
void columns_outside_share(const float* dy, const float* x, float* c, Epilogue& epilogue, std::size_t part,
                           std::size_t parts) noexcept {
  namespace simd = tapeless::simd;
  using variant = simd::detail::gemm_variant<M, K, N, simd::op::transpose, simd::op::none, xsimd::default_arch, float>;
  using kernel = typename variant::kernel;
  using plan = typename variant::plan;
  static_assert(std::is_same_v<kernel, simd::detail::outer_product_gemm<plan, M, K, N, N, 1, M, true>>,
                "update_probe: a weight gradient shared by rows");
  const simd::detail::gemm_output<float, Epilogue, false> out{c, N, epilogue};
  constexpr std::size_t panels = kernel::panel_columns / (kernel::tile_vectors * plan::lanes);
  constexpr std::size_t tiles = M / kernel::tile_rows;
  const std::size_t first = tiles * part / parts * kernel::tile_rows;
  const std::size_t last = tiles * (part + 1) / parts * kernel::tile_rows;
  kernel::sweep(dy, x, out, 0, panels, first, last, part + 1 == parts, true);
}

// What a share computes: a plain store, SGD's momentum update as simd::gemm_share
// runs it, or the update with column blocks outside (the probe of the state).
enum class share_form { store, update, update_columns_outside };

// The two shares of the M x K x N product dY^T X on cores 0 and 1 (the
// caller's affinity is restored); the weight and momentum of both shares in
// one array each (as in a parameter store), or, with one_array false, in an
// array per share. Quiet NaNs when this process may not use cores 0 and 1.
template <std::size_t M, std::size_t K, std::size_t N, share_form Form>
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
    momentum_update update{w[part], m[part], N};
    if constexpr (Form == share_form::update)
      simd::gemm_share<M, K, N, op::transpose, op::none>(dy.data, x.data, w[part], update, part, 2);
    else if constexpr (Form == share_form::update_columns_outside)
      columns_outside_share<M, K, N>(dy.data, x.data, w[part], update, part, 2);
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
// update, column blocks outside: its shares' time at once over their time
// alone (the machine's state, see the top of this file).
inline double fused_update_ratio() {
  return update_probe::measure<256, 64, 784, update_probe::share_form::update_columns_outside>(true, 1000).ratio();
}

}  // namespace tapeless::bench
