// Writes the suite's initial weights and data (see common.hpp for the files
// and their layout) into a directory, from fixed seeds: every implementation
// starts from the same bytes.
//
//   make_inputs <directory>
//
// Weights are drawn as torch.nn.Linear draws its defaults, uniform in
// [-1/sqrt(in), 1/sqrt(in)] for weights and biases, from a splitmix64 stream
// (not torch's generator: the point is one file, not torch's numbers).

#include "common.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace peers = tapeless::bench::peers;

namespace {

struct splitmix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
};

template <class T>
void append(std::vector<char>& out, const T& v) {
  const char* p = reinterpret_cast<const char*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

void write(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

// A linear layer's weight [out, in] then bias [out].
void linear(std::vector<char>& out, splitmix64& rng, std::size_t in, std::size_t n_out) {
  const double bound = 1.0 / std::sqrt(double(in));
  for (std::size_t k = 0; k < n_out * in; ++k) append(out, float(rng.uniform(-bound, bound)));
  for (std::size_t k = 0; k < n_out; ++k) append(out, float(rng.uniform(-bound, bound)));
}

}  // namespace

int main(int argc, char** argv) try {
  static_assert(std::endian::native == std::endian::little, "the files are little-endian");
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_inputs <directory>\n");
    return 2;
  }
  const std::string dir = argv[1];
  {
    namespace w = peers::w1;
    splitmix64 rng{1};
    std::vector<char> weights;
    linear(weights, rng, w::in, w::hidden);
    linear(weights, rng, w::hidden, w::hidden);
    linear(weights, rng, w::hidden, w::out);
    write(dir + "/w1.weights", weights);
    std::vector<char> data;
    std::vector<float> x(w::samples * w::in);
    for (auto& v : x) v = float(rng.uniform(-1, 1));
    for (float v : x) append(data, v);
    for (std::size_t s = 0; s < w::samples; ++s) {  // a smooth target
      const float* r = &x[s * w::in];
      append(data, float(std::sin(r[0] + 0.5 * r[1] - r[2]) + 0.25 * r[3] * r[4]));
    }
    write(dir + "/w1.data", data);
  }
  {
    namespace w = peers::w2;
    splitmix64 rng{2};
    std::vector<char> weights;
    linear(weights, rng, w::in, w::h1);
    linear(weights, rng, w::h1, w::h2);
    linear(weights, rng, w::h2, w::out);
    write(dir + "/w2.weights", weights);
    std::vector<char> data;
    for (std::size_t k = 0; k < w::samples * w::in; ++k) append(data, float(rng.uniform()));
    for (std::size_t k = 0; k < w::samples; ++k) append(data, std::int32_t(rng.next() % 10));
    write(dir + "/w2.data", data);
  }
  {
    // Convolutions as torch draws them by default, bound 1/sqrt(C * kH * kW):
    // a [out, C, 3, 3] weight is a linear layer's [out, C * 9].
    namespace w = peers::w5;
    splitmix64 rng{5};
    std::vector<char> weights;
    linear(weights, rng, 1 * 9, w::c1);
    linear(weights, rng, w::c1 * 9, w::c2);
    linear(weights, rng, w::fc_in, w::h);
    linear(weights, rng, w::h, w::out);
    write(dir + "/w5.weights", weights);
  }
  {
    constexpr std::size_t n = peers::w3::max_n;
    splitmix64 rng{3};
    std::vector<char> data;
    for (std::size_t k = 0; k < n; ++k) append(data, rng.uniform(-1, 1));
    for (std::size_t k = 0; k < n; ++k) append(data, rng.uniform(0.5, 1.5));
    const double mu = 0.3, sigma = 1.7;
    for (std::size_t k = 0; k < n; ++k) {
      double z = -6;  // Irwin-Hall: about standard normal
      for (int j = 0; j < 12; ++j) z += rng.uniform();
      append(data, mu + sigma * z);
    }
    append(data, 0.1);   // mu at which the gradient is taken
    append(data, 1.5);   // sigma
    write(dir + "/w3.data", data);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "make_inputs: %s\n", e.what());
  return 1;
}
