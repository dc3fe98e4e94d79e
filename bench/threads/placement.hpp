#pragma once
// Where the host put this machine's cores: the round trip of one cache line
// between two threads. On the 2-core virtual machine of
// bench/results/threads.md it has read about 110 ns (the two cores on one
// chiplet, sharing its L3), about 450 ns and about 1950 ns, changing within
// minutes. It does not tell whether two threads will scale there (W2 read
// 1.85x and 1.25x at 1950 ns): update_probe.hpp does.

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace tapeless::bench {

// Pins the calling thread to one core; false if this process may not use it.
inline bool pin_to(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// The median over 15 runs of 2000 round trips of one cache line between two
// threads (each waits for the other's write), in ns, the threads pinned to
// the first two cores this process may use (unpinned, the scheduler now and
// then puts both on one core, and a round trip then takes a time slice); the
// caller's own affinity is restored. NaN with fewer than two cores. Both
// threads spin: run it on two free cores.
inline double cache_line_round_trip_ns() {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return std::nan("");
  int cores[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cores[found++] = c;
  if (found < 2) return std::nan("");
  cpu_set_t caller;
  pthread_getaffinity_np(pthread_self(), sizeof caller, &caller);
  alignas(64) std::atomic<std::uint32_t> turn{0};
  constexpr std::uint32_t trips = 2000;
  std::vector<double> runs;
  pin_to(cores[0]);
  for (int run = 0; run < 15; ++run) {
    turn.store(0);
    std::thread other([&] {
      pin_to(cores[1]);
      for (std::uint32_t i = 0; i < trips; ++i) {
        while (turn.load(std::memory_order_acquire) != 2 * i + 1) {
        }
        turn.store(2 * i + 2, std::memory_order_release);
      }
    });
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < trips; ++i) {
      turn.store(2 * i + 1, std::memory_order_release);
      while (turn.load(std::memory_order_acquire) != 2 * i + 2) {
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    other.join();
    runs.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / trips);
  }
  pthread_setaffinity_np(pthread_self(), sizeof caller, &caller);
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace tapeless::bench
