#pragma once
// What every program of the side-by-side suite shares: the workloads' sizes
// and hyperparameters, the files they read, and the driver that run.py talks
// to. Nothing here depends on tapeless or on a peer: each implementation is
// one program that includes this header and registers its workloads.
//
// Files (written by make_inputs into the data directory; raw little-endian,
// row-major, no header; weights in PyTorch's names, order and layout):
//   w1.weights  float32: fc1.weight [32, 16], fc1.bias [32], fc2.weight [32, 32],
//               fc2.bias [32], fc3.weight [1, 32], fc3.bias [1]
//   w1.data     float32: X [2048, 16], then T [2048] (regression targets)
//   w2.weights  float32: fc1.weight [256, 784], fc1.bias [256], fc2.weight [128, 256],
//               fc2.bias [128], fc3.weight [10, 128], fc3.bias [10]
//   w2.data     float32 X [1024, 784], then int32 Y [1024] (class ids 0..9)
//   w5.weights  float32: conv1.weight [32, 1, 3, 3], conv1.bias [32], conv2.weight
//               [64, 32, 3, 3], conv2.bias [64], fc1.weight [128, 3136], fc1.bias [128],
//               fc2.weight [10, 128], fc2.bias [10]; W5 reads w2.data's images as [64, 1, 28, 28]
//   w3.data     float64: x [1000] in [-1, 1], p [1000] in [0.5, 1.5],
//               y [1000] (observations), then mu, sigma
//
// Call i of a training workload steps on batch (i mod pool) of the data: for
// W1 at batch B, samples [B * (i mod 2048/B), ...); for W2, samples
// [64 * (i mod 16), ...). Inference at batch 1 reads sample (i mod 2048).
//
// Usage: <program> <data directory> check
//          prints "check <workload> <value>": for training workloads the loss
//          of step 11, i.e. the loss after 10 updates from the initial weights;
//          for inference the output for sample 10; for W3 a checksum of the
//          gradient (value + sum_k g_k (k + 1) / n).
//        <program> <data directory> calibrate [seconds]
//          prints "calls <workload> <n>": calls per repetition of ~seconds (0.3).
//        <program> <data directory> time <workload>=<calls> ...
//          for each workload named: resets, warms up (a tenth of the calls),
//          times the calls, prints "time <workload> <ns per call> <final value>
//          <CPU ns per call>" (the process's CPU time, every thread's).

#include "harness.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace tapeless::bench::peers {

// ---- the workloads ---------------------------------------------------------

namespace w1 {
inline constexpr std::size_t in = 16, hidden = 32, out = 1, samples = 2048;
inline constexpr float lr = 0.01f;  // plain SGD
inline constexpr std::size_t weight_count = hidden * in + hidden + hidden * hidden + hidden + out * hidden + out;
}  // namespace w1

namespace w2 {
inline constexpr std::size_t in = 784, h1 = 256, h2 = 128, out = 10, batch = 64, batches = 16,
                             samples = batch * batches;
inline constexpr float lr = 0.01f, momentum = 0.9f;  // torch.optim.SGD semantics
inline constexpr std::size_t weight_count = h1 * in + h1 + h2 * h1 + h2 + out * h2 + out;
// FLOP counted per step (BENCHMARKING.md): 2 in out forward, the same for the
// weight gradient, the same again for every input gradient but the first layer's.
inline constexpr double flop_per_step =
    2.0 * batch * (3.0 * (in * h1 + h1 * h2 + h2 * out) - in * h1);
}  // namespace w2

namespace w3 {
inline constexpr std::size_t max_n = 1000;
}

// W5: a LeNet-like CNN on 28x28 images at batch 64, SGD with momentum:
// conv1 1->32 3x3 pad 1, ReLU, 2x2 max pool; conv2 32->64 3x3 pad 1, ReLU,
// 2x2 max pool; fc1 3136->128, ReLU; fc2 128->10; softmax cross-entropy.
namespace w5 {
inline constexpr std::size_t batch = 64, side = 28, c1 = 32, c2 = 64, fc_in = c2 * 7 * 7, h = 128, out = 10,
                             batches = w2::batches;
inline constexpr float lr = 0.01f, momentum = 0.9f;
inline constexpr std::size_t weight_count =
    c1 * 9 + c1 + c2 * c1 * 9 + c2 + h * fc_in + h + out * h + out;
// FLOP per step, counted as for W2: 2 per multiply-add of the forward pass,
// the same for each weight gradient and for each input gradient but conv1's
// (the images need none); pooling, ReLU and the loss not counted.
inline constexpr double conv1_flop = 2.0 * batch * c1 * side * side * 9;
inline constexpr double conv2_flop = 2.0 * batch * c2 * (side / 2) * (side / 2) * c1 * 9;
inline constexpr double fc_flop = 2.0 * batch * (fc_in * h + h * out);
inline constexpr double flop_per_step = 2 * conv1_flop + 3 * conv2_flop + 3 * fc_flop;
// W5 with batch norm after each convolution, evaluated (torch's eval()): the
// forward pass alone, at batch 64, with running statistics that have moved.
inline constexpr double flop_per_inference = conv1_flop + conv2_flop + fc_flop;

// Threads a program may use inside a step: TAPELESS_BENCH_THREADS (default 1;
// bench/run_w5.py --threads sets it for every program it runs).
inline std::size_t threads() {
  const char* v = std::getenv("TAPELESS_BENCH_THREADS");
  const long n = v ? std::atol(v) : 1;
  return n > 1 ? std::size_t(n) : 1;
}

// Batch norm k's (1 or 2) value for channel c: the weight, bias, running mean
// and running variance; smooth numbers away from torch's start (1, 0, 0, 1),
// made the same way by every program.
struct batch_norm_entry {
  float weight, bias, running_mean, running_var;
};
inline batch_norm_entry batch_norm_values(int k, std::size_t c) {
  const double t = double(c) + 0.37 * k;
  return {float(1 + 0.2 * std::sin(t)), float(0.1 * std::cos(1.3 * t)), float(0.05 * std::sin(2.1 * t)),
          float(0.6 + 0.3 * (1 + std::cos(0.7 * t)))};
}
}  // namespace w5

// Dense layers at batch 1 (RTNeural's benchmark shapes): y = W x + b, N
// inputs and N outputs, no activation. Weights in PyTorch's layout ([out,
// in], then the bias), drawn by dense_data below (no file: every program
// makes the same numbers from the same seed).
namespace dense {
inline constexpr std::size_t samples = 1024;
}

struct dense_data {
  std::vector<float> weights, x;  // weights: W [n, n] then b [n]; x: samples x n
  explicit dense_data(std::size_t n) : weights(n * n + n), x(dense::samples * n) {
    std::uint64_t state = 0x9E3779B97F4A7C15ull ^ n;
    auto uniform = [&] {  // in [-1, 1): a 64-bit LCG's top 24 bits
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return float(state >> 40) / float(1 << 23) - 1.f;
    };
    const float scale = 1.f / std::sqrt(float(n));  // torch.nn.Linear's bound
    for (auto& w : weights) w = scale * uniform();
    for (auto& v : x) v = uniform();
  }
};

// ---- files -----------------------------------------------------------------

template <class T>
std::vector<T> read_blob(const std::string& path, std::size_t count, std::size_t offset_bytes = 0) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path + " (run make_inputs first)");
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(f.tellg());
  if (size < offset_bytes + count * sizeof(T))
    throw std::runtime_error(path + ": too short for the workload");
  f.seekg(static_cast<std::streamoff>(offset_bytes));
  std::vector<T> v(count);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(T)));
  return v;
}

struct w1_data {
  std::vector<float> weights, x, t;
  explicit w1_data(const std::string& dir)
      : weights(read_blob<float>(dir + "/w1.weights", w1::weight_count)),
        x(read_blob<float>(dir + "/w1.data", w1::samples * w1::in)),
        t(read_blob<float>(dir + "/w1.data", w1::samples, w1::samples * w1::in * sizeof(float))) {}
};

struct w2_data {
  std::vector<float> weights, x;
  std::vector<std::int32_t> y;
  explicit w2_data(const std::string& dir)
      : weights(read_blob<float>(dir + "/w2.weights", w2::weight_count)),
        x(read_blob<float>(dir + "/w2.data", w2::samples * w2::in)),
        y(read_blob<std::int32_t>(dir + "/w2.data", w2::samples, w2::samples * w2::in * sizeof(float))) {}
};

struct w5_data {
  std::vector<float> weights, x;
  std::vector<std::int32_t> y;
  explicit w5_data(const std::string& dir)
      : weights(read_blob<float>(dir + "/w5.weights", w5::weight_count)),
        x(read_blob<float>(dir + "/w2.data", w2::samples * w2::in)),
        y(read_blob<std::int32_t>(dir + "/w2.data", w2::samples, w2::samples * w2::in * sizeof(float))) {}
};

struct w3_data {
  std::vector<double> x, p, y;
  double mu, sigma;
  explicit w3_data(const std::string& dir)
      : x(read_blob<double>(dir + "/w3.data", w3::max_n)),
        p(read_blob<double>(dir + "/w3.data", w3::max_n, w3::max_n * 8)),
        y(read_blob<double>(dir + "/w3.data", w3::max_n, 2 * w3::max_n * 8)) {
    const auto ms = read_blob<double>(dir + "/w3.data", 2, 3 * w3::max_n * 8);
    mu = ms[0];
    sigma = ms[1];
  }
};

// Value + sum_k g_k (k + 1) / n: one number that moves with every partial.
inline double gradient_checksum(double value, const double* g, std::size_t n) {
  double s = value;
  for (std::size_t k = 0; k < n; ++k) s += g[k] * double(k + 1) / double(n);
  return s;
}

// ---- the driver ------------------------------------------------------------

class driver {
 public:
  driver(int argc, char** argv) {
    if (argc < 3) usage(argv[0]);
    // TAPELESS_BENCH_FLUSH_DENORMALS=1: subnormals flushed to zero (FTZ, DAZ)
    // for the whole run, whichever implementation runs (libtorch's
    // set_flush_denormal, tl::flush_denormals): on Intel cores a long W2 run
    // otherwise slows down as its gradients become subnormal.
    if (const char* flush = std::getenv("TAPELESS_BENCH_FLUSH_DENORMALS"); flush != nullptr && flush[0] == '1') {
#if defined(__x86_64__)
      _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
    }
    dir_ = argv[1];
    mode_ = argv[2];
    if (mode_ == "calibrate") {
      if (argc > 3) seconds_ = std::atof(argv[3]);
    } else if (mode_ == "time") {
      for (int k = 3; k < argc; ++k) {
        const std::string a = argv[k];
        const auto eq = a.find('=');
        if (eq == std::string::npos) usage(argv[0]);
        calls_[a.substr(0, eq)] = std::strtoull(a.c_str() + eq + 1, nullptr, 10);
      }
    } else if (mode_ != "check") {
      usage(argv[0]);
    }
  }

  const std::string& dir() const { return dir_; }

  // reset() restores the initial weights (and optimizer state); body(i)
  // makes call i and returns the loss (or an output) as a double.
  template <class Reset, class Body>
  void workload(const std::string& name, Reset reset, Body body) {
    workload(name, reset, body, [](double v) { return v; });
  }

  // The same, with check_value(v) turning the value of call 10 into the
  // number printed by check (e.g. a checksum of a gradient the body wrote).
  template <class Reset, class Body, class CheckValue>
  void workload(const std::string& name, Reset reset, Body body, CheckValue check_value) {
    if (mode_ == "check") {
      reset();
      for (std::uint64_t i = 0; i < 10; ++i) do_not_optimize(body(i));
      const double v = check_value(double(body(10)));
      std::printf("check %s %.17g\n", name.c_str(), v);
    } else if (mode_ == "calibrate") {
      reset();
      std::uint64_t calls = 1;
      double t = run(body, calls);
      while (t < seconds_ / 10 && calls < (std::uint64_t{1} << 40)) {
        calls *= 2;
        t = run(body, calls);
      }
      calls = std::max<std::uint64_t>(1, std::uint64_t(double(calls) * seconds_ / std::max(t, 1e-9)));
      std::printf("calls %s %llu\n", name.c_str(), static_cast<unsigned long long>(calls));
    } else {
      const auto it = calls_.find(name);
      if (it == calls_.end()) return;
      reset();
      run(body, it->second / 10 + 1);
      const std::clock_t cpu_start = std::clock();  // the process's CPU time, all its threads
      const double t = run(body, it->second);
      const double cpu = double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      const double last = double(body(it->second));
      std::printf("time %s %.6g %.9g %.6g\n", name.c_str(), t * 1e9 / double(it->second), last,
                  cpu * 1e9 / double(it->second));
    }
    std::fflush(stdout);
  }

 private:
  [[noreturn]] static void usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s <data dir> check | calibrate [seconds] | time <workload>=<calls>...\n",
                 self);
    std::exit(2);
  }

  template <class Body>
  static double run(Body& body, std::uint64_t calls) {
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < calls; ++i) do_not_optimize(body(i));
    const auto stop = std::chrono::steady_clock::now();
    return std::chrono::duration<double>(stop - start).count();
  }

  std::string dir_, mode_;
  double seconds_ = 0.3;
  std::map<std::string, std::uint64_t> calls_;
};

}  // namespace tapeless::bench::peers
