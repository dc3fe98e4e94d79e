#pragma once
// tl::thread_pool: threads made once, that a compiled program lends its large
// kernels to (program.use_threads(pool)).
//
//   tl::thread_pool pool(2);                 // the calling thread and one worker
//   auto trainer = tl::compile(loss, tl::optim::sgd{.lr = 0.01f});
//   trainer.use_threads(&pool);              // its large GEMMs now run in two shares
//
// run(task) calls task(part, parts) once for every part (part 0 on the calling
// thread) and returns when all have returned: no allocation, no lock, no
// exception, no thread made. Between runs a worker spins for a short while
// (kernels of one step follow each other within microseconds) and then
// sleeps on the generation counter (a futex), so an idle pool costs nothing.
// Between stay_awake() and may_sleep() (a program's call: its serial kernels,
// a pooling or a softmax, can outlast the spin) the workers spin and never
// sleep: a worker woken from a futex can come back tens of microseconds late
// (about 50 on the virtual machine of bench/results/threads.md), and a step
// with gaps longer than the spin paid that at every shared kernel after one. A pool serves one caller at a
// time: two programs stepping in two threads need a pool each.

#include <tapeless/core/denormals.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tapeless {

class thread_pool {
 public:
  // threads: how many run a task, the caller included (1: no worker).
  explicit thread_pool(std::size_t threads) {
    if (threads == 0) throw std::invalid_argument("tl::thread_pool: the thread count must be at least 1");
    workers_.reserve(threads - 1);
    try {
      for (std::size_t part = 1; part < threads; ++part) workers_.emplace_back([this, part] { work(part); });
    } catch (...) {
      stop();  // the workers made so far
      throw;
    }
  }

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  ~thread_pool() { stop(); }

  std::size_t size() const noexcept { return workers_.size() + 1; }

  // The workers spin between runs until may_sleep(), whatever the gap (a
  // sleeping worker stays asleep until the next run). Called by the pool's
  // caller only, as run() is.
  void stay_awake() noexcept {
    const std::uint32_t now = state_.load(std::memory_order_relaxed);
    if ((now & awake_bit) == 0) state_.store(now | awake_bit, std::memory_order_relaxed);
  }
  // Back to spinning a short while after each run, then sleeping.
  void may_sleep() noexcept {
    const std::uint32_t now = state_.load(std::memory_order_relaxed);
    if ((now & awake_bit) != 0) state_.store(now & ~awake_bit, std::memory_order_relaxed);
  }
  // How many times a worker has gone to sleep (for tests and tuning).
  std::uint64_t worker_sleeps() const noexcept { return sleeps_.load(std::memory_order_relaxed); }

  // Calls task(part, size()) for every part, part 0 here; returns when every
  // call has returned. The task must not throw.
  template <class Task>
  void run(Task& task) noexcept {
    if (workers_.empty()) {
      task(std::size_t{0}, std::size_t{1});
      return;
    }
    start([](void* t, std::size_t part, std::size_t parts) noexcept { (*static_cast<Task*>(t))(part, parts); },
          &task);
    task(std::size_t{0}, size());
    wait_for_workers();
  }

 private:
  // The parts of run() that do not depend on the task, out of line: every
  // parallel kernel of a program instantiates run(), and a flattened kernel
  // would otherwise take in their atomics, waits and wakes each time.
  [[gnu::noinline]] void start(void (*call)(void*, std::size_t, std::size_t) noexcept, void* task) noexcept {
    call_ = call;
    task_ = task;
    denormal_mode_ = detail::denormal_mode();
    unfinished_.store(static_cast<std::uint32_t>(workers_.size()), std::memory_order_relaxed);
    // One writer (the caller), so a store: the next generation, the awake bit kept.
    state_.store(state_.load(std::memory_order_relaxed) + generation_step,
                 std::memory_order_release);  // publishes call_, task_, unfinished_
    state_.notify_all();                       // no system call unless a worker sleeps
  }
  [[gnu::noinline]] void wait_for_workers() noexcept {
    for (auto left = static_cast<std::uint32_t>(workers_.size()); left != 0;) left = await_change(unfinished_, left);
  }

  // About 20-50 microseconds of pause instructions: longer than the gap
  // between two kernels of a step, far shorter than a user's pause.
  static constexpr std::uint32_t spin_limit = 1u << 13;

  // state_: the generation of the last run in the bits above awake_bit.
  static constexpr std::uint32_t awake_bit = 1, generation_step = 2;

  void stop() noexcept {
    stopping_.store(true, std::memory_order_relaxed);
    state_.fetch_add(generation_step, std::memory_order_release);
    state_.notify_all();
    for (auto& w : workers_) w.join();
  }

  // Waits until `value` no longer holds `old`, spinning first and then
  // sleeping on it; returns what it holds then (acquired).
  static std::uint32_t await_change(const std::atomic<std::uint32_t>& value, std::uint32_t old) noexcept {
    for (std::uint32_t spins = 0;; ++spins) {
      const std::uint32_t now = value.load(std::memory_order_acquire);
      if (now != old) return now;
      if (spins < spin_limit)
        pause();
      else
        value.wait(old, std::memory_order_acquire);
    }
  }

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  }

  // Waits for a run after the one of generation `seen` (spinning while the
  // awake bit is set, else for spin_limit pauses, then sleeping); returns
  // the new generation (acquired).
  std::uint32_t await_run(std::uint32_t seen) noexcept {
    for (std::uint32_t spins = 0;; ++spins) {
      const std::uint32_t now = state_.load(std::memory_order_acquire);
      if (now / generation_step != seen) return now / generation_step;
      if ((now & awake_bit) != 0) {
        spins = 0;
        pause();
      } else if (spins < spin_limit) {
        pause();
      } else {
        sleeps_.fetch_add(1, std::memory_order_relaxed);
        state_.wait(now, std::memory_order_acquire);
      }
    }
  }

  void work(std::size_t part) noexcept {
    std::uint32_t seen = 0;
    for (;;) {
      seen = await_run(seen);
      if (stopping_.load(std::memory_order_relaxed)) return;
      // The caller's flush mode (tl::flush_denormals), so that every part
      // rounds alike: the same bits on any thread count.
      if (detail::denormal_mode() != denormal_mode_) detail::set_denormal_mode(denormal_mode_);
      call_(task_, part, size());
      if (unfinished_.fetch_sub(1, std::memory_order_acq_rel) == 1) unfinished_.notify_one();
    }
  }

  // Written by run() before the generation moves, read by workers after.
  void (*call_)(void*, std::size_t, std::size_t) noexcept = nullptr;
  void* task_ = nullptr;
  std::uint32_t denormal_mode_ = 0;
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<std::uint32_t> state_{0};
  std::atomic<std::uint64_t> sleeps_{0};
  alignas(64) std::atomic<std::uint32_t> unfinished_{0};
  std::vector<std::thread> workers_;
};

}  // namespace tapeless
