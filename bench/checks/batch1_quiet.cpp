// Batch-1 latency, quiet-core estimate: tapeless and the hand-written loops
// of bench/peers/handwritten_mlp.cpp in one program (this translation unit
// also holds the hand-written W2, so it is not small), each timed as the
// minimum over many short batches of calls, the implementations interleaved
// batch by batch. On a shared machine a batch of a few microseconds often
// runs between two preemptions, so the minimum estimates what a quiet core
// does (bench/results/batch1.md). Prints check values first: both sides
// start from the same weights and must agree.
//
// Tapeless programs run with packed weights (program::pack_weights), and
// W1 inference and dense 16x16 also without ("unpacked": the default). The
// hand-written dense 16x16 is timed both inlined into the timing loop and
// as a call of its own, as a program's step is.
//
//   g++ -O3 -DNDEBUG -march=native -std=c++20 -Iinclude -Ibench bench/checks/batch1_quiet.cpp -o batch1_quiet
//   taskset -c 0 ./batch1_quiet [batches]
//   perf stat -e task-clock,cycles,instructions ./batch1_quiet only <workload> [calls]
//       (one workload alone, e.g. "dense16 tapeless": per-call counts, or for perf record)

#define main handwritten_mlp_main
#include "../peers/handwritten_mlp.cpp"
#undef main

#include <tapeless/tapeless.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace tl = tapeless;

namespace {

constexpr auto X16 = tl::input<"X", float, 1, 16>;
constexpr auto X64 = tl::input<"X", float, 1, 64>;
constexpr auto T1 = tl::input<"T", float, 1, 1>;
constexpr auto h1 = tl::tanh(tl::nn::linear<"fc1", 32>(X16));
constexpr auto h2 = tl::tanh(tl::nn::linear<"fc2", 32>(h1));
constexpr auto w1_out = tl::nn::linear<"fc3", 1>(h2);
constexpr auto w1_loss = tl::mse(w1_out, T1);
constexpr auto dense16 = tl::nn::linear<"dense", 16>(X16);
constexpr auto dense64 = tl::nn::linear<"dense", 64>(X64);

std::vector<float> random_floats(std::size_t n, unsigned seed, float scale) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(gen);
  return v;
}

// Copies a blob in the store's order of names (weights [out, in], then biases).
template <class Store>
void load_in_order(Store& params, const std::vector<float>& blob, std::initializer_list<std::string_view> order) {
  std::size_t at = 0;
  for (std::string_view want : order)
    params.visit([&](std::string_view name, auto& value, auto&) {
      if (name != want) return;
      for (std::size_t i = 0; i < value.size(); ++i) value[i] = blob[at + i];
      at += value.size();
    });
}

constexpr std::size_t calls_per_batch = 256;

struct timing {
  const char* name;
  double best = 1e300;
  std::vector<double> all{};
  double median() {
    std::sort(all.begin(), all.end());
    return all.empty() ? 0 : all[all.size() / 2];
  }
};

template <class F>
void time_batch(timing& t, F&& f, volatile float& sink, std::size_t& i) {
  const auto t0 = std::chrono::steady_clock::now();
  float acc = 0;
  for (std::size_t c = 0; c < calls_per_batch; ++c, ++i) acc += f(i);
  const auto t1 = std::chrono::steady_clock::now();
  sink = sink + acc;
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / calls_per_batch;
  if (ns < t.best) t.best = ns;
  t.all.push_back(ns);
}

// program.pack_weights, where the tree has it (before it, forward programs
// packed by themselves: their "unpacked" rows are then packed too).
template <class Program, class Store>
void pack_weights(Program& program, const Store& params) {
  if constexpr (requires { program.pack_weights(params); }) program.pack_weights(params);
}

// The hand-written layer as a call of its own (the program's step is one).
template <class Net>
[[gnu::noinline]] const float* infer_not_inlined(Net& net, const float* x) {
  return net.infer(x);
}

}  // namespace

int main(int argc, char** argv) {
  const bool only = argc > 2 && std::string_view(argv[1]) == "only";
  const std::size_t batches = !only && argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 4000;
  constexpr std::size_t samples = 1024;
  const auto xs = random_floats(samples * 64, 1, 1.f);
  const auto ts = random_floats(samples, 2, 1.f);
  const auto w1_blob = random_floats(peers::w1::weight_count, 3, 0.25f);
  const auto d16_blob = random_floats(16 * 16 + 16, 4, 0.25f);
  const auto d64_blob = random_floats(64 * 64 + 64, 5, 0.125f);

  auto hand_w1 = std::make_unique<w1_net<1>>();
  auto hand_w1_train = std::make_unique<w1_net<1>>();
  auto hand_d16 = std::make_unique<dense_net<16>>();
  auto hand_d64 = std::make_unique<dense_net<64>>();
  hand_w1->load(w1_blob);
  hand_w1_train->load(w1_blob);
  {
    std::vector<float> b(d16_blob);
    hand_d16->load(b);
    std::vector<float> c(d64_blob);
    hand_d64->load(c);
  }

  auto w1_predict = tl::compile(w1_out);
  auto w1_trainer = tl::compile(w1_loss, tl::optim::sgd{.lr = peers::w1::lr});
  auto w1_params = tl::parameters_of(w1_loss);
  auto w1_train_params = tl::parameters_of(w1_loss);
  auto d16_predict = tl::compile(dense16);
  auto d16_params = tl::parameters_of(dense16);
  auto d64_predict = tl::compile(dense64);
  auto d64_params = tl::parameters_of(dense64);
  load_in_order(w1_params, w1_blob, {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"});
  load_in_order(w1_train_params, w1_blob,
                {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"});
  load_in_order(d16_params, d16_blob, {"dense.weight", "dense.bias"});
  load_in_order(d64_params, d64_blob, {"dense.weight", "dense.bias"});
  auto w1_unpacked = w1_predict;  // the same program, reading the weights where they lie
  auto d16_unpacked = d16_predict;
  pack_weights(w1_predict, w1_params);
  pack_weights(d16_predict, d16_params);
  pack_weights(d64_predict, d64_params);

  auto x16 = [&](std::size_t i) { return std::span<const float, 16>(&xs[(i % samples) * 16], 16); };
  auto x64 = [&](std::size_t i) { return std::span<const float, 64>(&xs[(i % samples) * 64], 64); };
  auto t1 = [&](std::size_t i) { return std::span<const float, 1>(&ts[i % samples], 1); };

  auto tl_w1 = [&](std::size_t i) { return w1_predict(w1_params, X16 = x16(i)).data()[0]; };
  auto hw_w1 = [&](std::size_t i) { return hand_w1->infer(x16(i).data()); };
  auto tl_d16 = [&](std::size_t i) { return d16_predict(d16_params, X16 = x16(i)).data()[i % 16]; };
  auto hw_d16 = [&](std::size_t i) { return hand_d16->infer(x16(i).data())[i % 16]; };
  auto tl_w1_unpacked = [&](std::size_t i) { return w1_unpacked(w1_params, X16 = x16(i)).data()[0]; };
  auto tl_d16_unpacked = [&](std::size_t i) { return d16_unpacked(d16_params, X16 = x16(i)).data()[i % 16]; };
  auto hw_d16_call = [&](std::size_t i) { return infer_not_inlined(*hand_d16, x16(i).data())[i % 16]; };
  auto tl_d64 = [&](std::size_t i) { return d64_predict(d64_params, X64 = x64(i)).data()[i % 64]; };
  auto hw_d64 = [&](std::size_t i) { return hand_d64->infer(x64(i).data())[i % 64]; };
  auto tl_train = [&](std::size_t i) { return w1_trainer.step(w1_train_params, X16 = x16(i), T1 = t1(i)); };
  auto hw_train = [&](std::size_t i) { return hand_w1_train->step(x16(i).data(), t1(i).data(), peers::w1::lr); };

  // Check values: the first calls agree (training: the first 1000 losses summed).
  double a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, u = 0, v = 0, w = 0;
  for (std::size_t i = 0; i < 1000; ++i) {
    a += tl_w1(i), b += hw_w1(i), c += tl_d16(i), d += hw_d16(i), e += tl_d64(i), f += hw_d64(i);
    g += tl_train(i), h += hw_train(i), u += tl_w1_unpacked(i), v += tl_d16_unpacked(i), w += hw_d16_call(i);
  }
  std::printf(
      "check w1_infer %.6g %.6g (unpacked %.6g)  dense16 %.6g %.6g (unpacked %.6g, call %.6g)  dense64 %.6g %.6g  "
      "w1_train %.6g %.6g\n",
      a, b, u, c, d, v, w, e, f, g, h);

  // Pairs: tapeless, then what it is compared with.
  constexpr std::size_t n = 12;
  timing t[n] = {{"w1_infer_b1 tapeless"}, {"w1_infer_b1 hand"},    {"w1_infer unpacked"},  {"w1_infer_b1 hand"},
                 {"dense16 tapeless"},     {"dense16 hand call"},   {"dense16 unpacked"},   {"dense16 hand inlined"},
                 {"dense64 tapeless"},     {"dense64 hand"},        {"w1_train_b1 tapeless"}, {"w1_train_b1 hand"}};
  volatile float sink = 0;
  std::size_t i = 0;
  if (only) {  // one workload alone, for perf stat or perf record
    const std::string_view want = argc > 2 ? argv[2] : "";
    const std::size_t calls = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10'000'000;
    for (std::size_t k = 0; k < n; ++k) {
      if (want != t[k].name) continue;
      // Each workload's own loop, so that the hand-written ones inline as in the timed batches.
      auto loop = [&](auto fn) {
        float acc = 0;
        for (std::size_t c = 0; c < calls; ++c) acc += fn(c);
        sink = acc;
      };
      switch (k) {
        case 0: loop(tl_w1); break;
        case 1: case 3: loop(hw_w1); break;
        case 2: loop(tl_w1_unpacked); break;
        case 4: loop(tl_d16); break;
        case 5: loop(hw_d16_call); break;
        case 6: loop(tl_d16_unpacked); break;
        case 7: loop(hw_d16); break;
        case 8: loop(tl_d64); break;
        case 9: loop(hw_d64); break;
        case 10: loop(tl_train); break;
        default: loop(hw_train); break;
      }
      std::printf("%s: %zu calls\n", t[k].name, calls);
      return 0;
    }
    std::fprintf(stderr, "no workload named \"%s\"\n", argv[2]);
    return 2;
  }
  for (std::size_t r = 0; r < batches; ++r) {
    time_batch(t[0], tl_w1, sink, i);
    time_batch(t[1], hw_w1, sink, i);
    time_batch(t[2], tl_w1_unpacked, sink, i);
    time_batch(t[4], tl_d16, sink, i);
    time_batch(t[5], hw_d16_call, sink, i);
    time_batch(t[6], tl_d16_unpacked, sink, i);
    time_batch(t[7], hw_d16, sink, i);
    time_batch(t[8], tl_d64, sink, i);
    time_batch(t[9], hw_d64, sink, i);
    time_batch(t[10], tl_train, sink, i);
    time_batch(t[11], hw_train, sink, i);
  }
  t[3].best = t[1].best, t[3].all = t[1].all;
  double load[1];
  getloadavg(load, 1);
  std::printf("load %.2f, min (and median) over %zu batches of %zu calls, ns per call\n", load[0], batches,
              calls_per_batch);
  for (std::size_t k = 0; k < n; k += 2) {
    const double m0 = t[k].median(), m1 = t[k + 1].median();
    std::printf("%-22s %8.2f (%8.2f)   %-20s %8.2f (%8.2f)   ratio %.3f (%.3f)\n", t[k].name, t[k].best, m0,
                t[k + 1].name, t[k + 1].best, m1, t[k].best / t[k + 1].best, m0 / m1);
  }
  return 0;
}
