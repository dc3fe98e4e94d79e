#pragma once
// A small timing harness for micro-benchmarks, shared by everything in bench/.
//
// Method (see BENCHMARKING.md): every implementation is warmed up, then its
// call count is calibrated so that one repetition lasts about
// `seconds_per_repetition`; the repetitions are taken in interleaved rounds
// (A B C A B C ...), so that a slow phase of the machine hits every
// implementation alike; each implementation is reported as the median time
// per call with the min-max over the rounds, and a ratio of two
// implementations is taken round by round, inside one run.
//
// The body of a benchmark is a callable `body(i)` that makes call number i.
// It should pick its inputs by i (so that no work can be hoisted out of the
// loop) and hand every result to do_not_optimize (so that no work is deleted).
//
// Environment (all optional):
//   TAPELESS_BENCH_SECONDS      seconds per repetition (default 0.3)
//   TAPELESS_BENCH_REPETITIONS  repetitions per implementation (default 9)
//   TAPELESS_BENCH_QUICK=1      a quick look: 0.02 s per repetition, 3 repetitions
//   TAPELESS_BENCH_CLOCK=cpu    time by the calling thread's CPU clock, not the wall:
//                               on a shared core, time the thread spends
//                               descheduled then counts for nothing

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tapeless::bench {

// ---- keeping the work ------------------------------------------------------

// Makes the compiler materialize `value` as if an unknown instruction read it,
// and forget what it knew about memory: the work that produced it cannot be
// deleted, and nothing can be carried over from one call to the next. Costs
// no instruction of its own (the stores of the value at most). A large value
// is escaped by its address: an "m" operand would let some compilers (clang)
// copy it first, and the copy's wide loads from narrow stores stall.
template <class T>
inline void do_not_optimize(const T& value) {
  if constexpr (sizeof(T) <= sizeof(double))
    asm volatile("" : : "r,m"(value) : "memory");
  else
    asm volatile("" : : "r"(&value) : "memory");
}

// Makes the compiler assume that any memory may have changed.
inline void clobber_memory() { asm volatile("" : : : "memory"); }

// ---- inputs ----------------------------------------------------------------

// A fixed number of input sets (a power of two), taken in turn by call index,
// so that consecutive calls see different inputs and nothing can be hoisted
// out of the timing loop. Picking a set costs a mask and a multiply-add.
template <class T>
class input_pool {
 public:
  input_pool(std::size_t sets, std::size_t values_per_set)
      : mask_(sets - 1), stride_(values_per_set), data_(sets * values_per_set) {
    if (sets == 0 || (sets & (sets - 1)) != 0)
      throw std::invalid_argument(
          "tapeless::bench::input_pool: the number of sets must be a power of two");
  }

  std::size_t sets() const { return mask_ + 1; }
  T* set(std::size_t k) { return data_.data() + k * stride_; }
  const T* set(std::size_t k) const { return data_.data() + k * stride_; }

  // The inputs of call number i.
  const T* operator()(std::uint64_t i) const { return set(static_cast<std::size_t>(i & mask_)); }

 private:
  std::size_t mask_, stride_;
  std::vector<T> data_;
};

// ---- options ---------------------------------------------------------------

struct options {
  double seconds_per_repetition = 0.3;
  int repetitions = 9;
  double warmup_seconds = 0.05;  // per implementation, before calibration
  bool thread_cpu_clock = false;  // CLOCK_THREAD_CPUTIME_ID instead of steady_clock

  static options from_environment() {
    options o;
    const char* quick = std::getenv("TAPELESS_BENCH_QUICK");
    if (quick && std::string_view(quick) == "1") {
      o.seconds_per_repetition = 0.02;
      o.repetitions = 3;
      o.warmup_seconds = 0.01;
    }
    if (const char* s = std::getenv("TAPELESS_BENCH_SECONDS"))
      o.seconds_per_repetition = std::atof(s);
    if (const char* r = std::getenv("TAPELESS_BENCH_REPETITIONS"))
      o.repetitions = std::atoi(r);
    if (const char* c = std::getenv("TAPELESS_BENCH_CLOCK"))
      o.thread_cpu_clock = std::string_view(c) == "cpu";
    o.seconds_per_repetition = std::max(o.seconds_per_repetition, 1e-4);
    o.repetitions = std::max(o.repetitions, 1);
    return o;
  }
};

// ---- statistics ------------------------------------------------------------

// Median and range of a sample.
struct summary {
  double median = 0, min = 0, max = 0;

  static summary of(std::vector<double> sample) {
    if (sample.empty()) return {};
    std::sort(sample.begin(), sample.end());
    const std::size_t n = sample.size();
    const double median = n % 2 ? sample[n / 2] : (sample[n / 2 - 1] + sample[n / 2]) / 2;
    return {median, sample.front(), sample.back()};
  }

  // "12.3 (12.1-12.9)", with `digits` decimals.
  std::string format(int digits = 2) const {
    char text[96];
    std::snprintf(text, sizeof text, "%.*f (%.*f-%.*f)", digits, median, digits, min, digits, max);
    return text;
  }
};

// ---- the benchmark ---------------------------------------------------------

// One group of implementations of the same work, timed against each other.
class benchmark {
 public:
  explicit benchmark(std::string title, options opts = options::from_environment())
      : title_(std::move(title)), options_(opts) {}

  // Adds an implementation; body(i) makes call number i (i counts from 0 in
  // every repetition).
  template <class Body>
  void add(std::string name, Body body) {
    entry e;
    e.name = std::move(name);
    e.run = [body](std::uint64_t calls) {
      for (std::uint64_t i = 0; i < calls; ++i) body(i);
    };
    entries_.push_back(std::move(e));
  }

  // Warms up, calibrates and takes the interleaved rounds.
  void run() {
    for (auto& e : entries_) {
      run_for(e, options_.warmup_seconds);
      e.calls = calibrate(e);
      e.ns_per_call.clear();
    }
    for (int round = 0; round < options_.repetitions; ++round)
      for (auto& e : entries_) e.ns_per_call.push_back(seconds(e, e.calls) * 1e9 / double(e.calls));
  }

  const std::string& title() const { return title_; }

  // Nanoseconds per call of one implementation.
  summary time(std::string_view name) const { return summary::of(find(name).ns_per_call); }

  // time(a) / time(b), taken round by round.
  summary ratio(std::string_view a, std::string_view b) const {
    const auto& ta = find(a).ns_per_call;
    const auto& tb = find(b).ns_per_call;
    std::vector<double> r;
    for (std::size_t i = 0; i < ta.size() && i < tb.size(); ++i) r.push_back(ta[i] / tb[i]);
    return summary::of(std::move(r));
  }

  // Calls per repetition that calibration chose.
  std::uint64_t calls(std::string_view name) const { return find(name).calls; }

  void print(std::FILE* out = stdout) const {
    std::fprintf(out, "%s\n", title_.c_str());
    for (const auto& e : entries_)
      std::fprintf(out, "  %-24s %s ns/call  (%llu calls x %d)\n", e.name.c_str(),
                   summary::of(e.ns_per_call).format().c_str(),
                   static_cast<unsigned long long>(e.calls), options_.repetitions);
  }

 private:
  struct entry {
    std::string name;
    std::function<void(std::uint64_t)> run;  // type erasure per repetition, not per call
    std::uint64_t calls = 1;
    std::vector<double> ns_per_call;
  };

  const entry& find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.name == name) return e;
    throw std::invalid_argument("tapeless::bench: no implementation named " + std::string(name));
  }

  double seconds(entry& e, std::uint64_t calls) const {
    if (options_.thread_cpu_clock) {
      const double start = thread_cpu_seconds();
      e.run(calls);
      return thread_cpu_seconds() - start;
    }
    const auto start = std::chrono::steady_clock::now();
    e.run(calls);
    const auto stop = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(stop - start).count();
  }

  static double thread_cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  }

  void run_for(entry& e, double duration) const {
    std::uint64_t calls = 1;
    for (double spent = 0; spent < duration; calls *= 2) spent += seconds(e, calls);
  }

  // Doubles the call count until a repetition lasts a tenth of the target,
  // then scales it to the target (and measures once more to refine).
  std::uint64_t calibrate(entry& e) const {
    const double target = options_.seconds_per_repetition;
    std::uint64_t calls = 1;
    double t = seconds(e, calls);
    while (t < target / 10 && calls < (std::uint64_t{1} << 40)) {
      calls *= 2;
      t = seconds(e, calls);
    }
    const auto scaled = [&] {
      const double wanted = double(calls) * target / std::max(t, 1e-9);
      return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
    };
    calls = scaled();
    t = seconds(e, calls);  // the first estimate may come from a short, unsteady run
    return scaled();
  }

  std::string title_;
  options options_;
  std::vector<entry> entries_;
};

}  // namespace tapeless::bench
