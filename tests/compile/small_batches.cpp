// Small products run inside the program's step (compile/kernels/matmul.hpp:
// inlined_into_step; simd/gemm.hpp's one-row dot products with their lane-sum
// trees, a single output reduced alone). At batch 1, 2 and 3, on AVX2 and on
// the build machine's widest instruction set, a tanh MLP's output, loss,
// gradients and fused SGD update match a double-precision reference written
// out loop by loop here (no GEMM of the library involved).
#define BOOST_TEST_MODULE compile_small_batches
#include "support.hpp"

#include <cmath>
#include <cstddef>
#include <vector>

namespace tl = tapeless;

namespace {

// in -> hidden -> hidden -> out, tanh, MSE.
template <std::size_t B, std::size_t In, std::size_t Hidden, std::size_t Out>
struct net {
  static constexpr auto X = tl::input<"X", float, B, In>;
  static constexpr auto T = tl::input<"T", float, B, Out>;
  static constexpr auto h1 = tl::tanh(tl::nn::linear<"fc1", Hidden>(X));
  static constexpr auto h2 = tl::tanh(tl::nn::linear<"fc2", Hidden>(h1));
  static constexpr auto out = tl::nn::linear<"fc3", Out>(h2);
  static constexpr auto loss = tl::mse(out, T);
};

// y[b, o] = sum_k x[b, k] w[o, k] + bias[o]   (w as [out, in])
std::vector<double> linear(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& bias,
                           std::size_t batch, std::size_t in, std::size_t out) {
  std::vector<double> y(batch * out);
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t o = 0; o < out; ++o) {
      double s = bias[o];
      for (std::size_t k = 0; k < in; ++k) s += x[b * in + k] * w[o * in + k];
      y[b * out + o] = s;
    }
  return y;
}

struct reference {
  std::vector<double> out, gw1, gb1, gw2, gb2, gw3, gb3;
  double loss = 0;
};

template <class Store>
std::vector<double> as_double(Store& params, std::string_view name) {
  std::vector<double> v;
  params.visit([&](std::string_view n, auto& value, auto&) {
    if (n == name) v.assign(value.begin(), value.end());
  });
  return v;
}

// Forward and backward by hand, in double.
template <std::size_t B, std::size_t In, std::size_t H, std::size_t Out, class Store>
reference reference_step(Store& params, const std::vector<double>& x, const std::vector<double>& t) {
  const auto w1 = as_double(params, "fc1.weight"), b1 = as_double(params, "fc1.bias");
  const auto w2 = as_double(params, "fc2.weight"), b2 = as_double(params, "fc2.bias");
  const auto w3 = as_double(params, "fc3.weight"), b3 = as_double(params, "fc3.bias");
  auto h1 = linear(x, w1, b1, B, In, H);
  for (auto& v : h1) v = std::tanh(v);
  auto h2 = linear(h1, w2, b2, B, H, H);
  for (auto& v : h2) v = std::tanh(v);
  reference r;
  r.out = linear(h2, w3, b3, B, H, Out);
  std::vector<double> d_out(B * Out);
  for (std::size_t i = 0; i < B * Out; ++i) {
    const double d = r.out[i] - t[i];
    r.loss += d * d / double(B * Out);
    d_out[i] = 2 * d / double(B * Out);
  }
  // dW = dZ^T A, db = column sums of dZ, dA = dZ W.
  auto back = [](const std::vector<double>& dz, const std::vector<double>& a, const std::vector<double>& w,
                 std::size_t in, std::size_t out, std::vector<double>& gw, std::vector<double>& gb) {
    gw.assign(out * in, 0), gb.assign(out, 0);
    std::vector<double> da(B * in, 0);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t o = 0; o < out; ++o) {
        gb[o] += dz[b * out + o];
        for (std::size_t k = 0; k < in; ++k) {
          gw[o * in + k] += dz[b * out + o] * a[b * in + k];
          da[b * in + k] += dz[b * out + o] * w[o * in + k];
        }
      }
    return da;
  };
  auto dh2 = back(d_out, h2, w3, H, Out, r.gw3, r.gb3);
  for (std::size_t i = 0; i < dh2.size(); ++i) dh2[i] *= 1 - h2[i] * h2[i];
  auto dh1 = back(dh2, h1, w2, H, H, r.gw2, r.gb2);
  for (std::size_t i = 0; i < dh1.size(); ++i) dh1[i] *= 1 - h1[i] * h1[i];
  back(dh1, x, w1, In, H, r.gw1, r.gb1);
  return r;
}

template <class Tensor>
void check_close(std::string_view what, const Tensor& got, const std::vector<double>& expected, double tolerance) {
  BOOST_REQUIRE_EQUAL(got.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST(std::abs(double(got[i]) - expected[i]) <= tolerance * std::max(1.0, std::abs(expected[i])),
               what << "[" << i << "] = " << got[i] << ", reference " << expected[i]);
}

template <class Arch, std::size_t B, std::size_t In, std::size_t H, std::size_t Out>
void check_net() {
  using N = net<B, In, H, Out>;
  auto params = tl::parameters_of(N::loss);
  tl::init::xavier_uniform(params, 7);
  params.visit([](std::string_view, auto& value, auto&) {  // biases not zero
    for (std::size_t i = 0; i < value.size(); ++i) value[i] += 0.01f * float(i % 5);
  });
  tl::tensor<float, B, In> x;
  tl::tensor<float, B, Out> t;
  tl::random_stream rng{3};
  for (auto& e : x) e = 2 * rng.uniform() - 1;
  for (auto& e : t) e = rng.uniform();
  const std::vector<double> xd(x.begin(), x.end()), td(t.begin(), t.end());
  const reference r = reference_step<B, In, H, Out>(params, xd, td);
  const double tol = 2e-5;

  auto predict = tl::compile<Arch>(N::out);
  check_close("output", predict(params, N::X = x), r.out, tol);
  auto packed = tl::compile<Arch>(N::out);  // reads W^T copies (broadcast-and-FMA where it has them)
  packed.pack_weights(params);
  check_close("output with packed weights", packed(params, N::X = x), r.out, tol);

  auto program = tl::compile<Arch>(N::loss);
  const float loss = program.step(params, N::X = x, N::T = t);
  BOOST_TEST(std::abs(loss - r.loss) <= tol * std::max(1.0, r.loss), "loss " << loss << ", reference " << r.loss);
  check_close("fc1.weight grad", params.template grad<"fc1.weight">(), r.gw1, tol);
  check_close("fc1.bias grad", params.template grad<"fc1.bias">(), r.gb1, tol);
  check_close("fc2.weight grad", params.template grad<"fc2.weight">(), r.gw2, tol);
  check_close("fc2.bias grad", params.template grad<"fc2.bias">(), r.gb2, tol);
  check_close("fc3.weight grad", params.template grad<"fc3.weight">(), r.gw3, tol);
  check_close("fc3.bias grad", params.template grad<"fc3.bias">(), r.gb3, tol);

  // The fused update (in the weight-gradient GEMMs' epilogues) against w - lr g.
  const float lr = 0.1f;
  auto expected = as_double(params, "fc1.weight");
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] -= double(lr) * r.gw1[i];
  auto expected2 = as_double(params, "fc2.weight");
  for (std::size_t i = 0; i < expected2.size(); ++i) expected2[i] -= double(lr) * r.gw2[i];
  auto expected3 = as_double(params, "fc3.weight");
  for (std::size_t i = 0; i < expected3.size(); ++i) expected3[i] -= double(lr) * r.gw3[i];
  // The biases, updated where their gradients' sums end (kernels/reduce.hpp).
  const auto updated = [&](const char* name, const std::vector<double>& g) {
    auto e = as_double(params, name);
    for (std::size_t i = 0; i < e.size(); ++i) e[i] -= double(lr) * g[i];
    return e;
  };
  const auto expected_b1 = updated("fc1.bias", r.gb1), expected_b2 = updated("fc2.bias", r.gb2),
             expected_b3 = updated("fc3.bias", r.gb3);
  // With momentum too: its first step is the same update (the buffer starts
  // as the gradient), run by the GEMM's epilogue where plain SGD at batch 1
  // takes -lr into the outer product (kernels/matmul.hpp).
  auto with_momentum = params;
  auto trainer = tl::compile<Arch>(N::loss, tl::optim::sgd{.lr = lr});
  trainer.step(params, N::X = x, N::T = t);
  check_close("fc1.weight after the fused update", params.template get<"fc1.weight">(), expected, tol);
  check_close("fc2.weight after the fused update", params.template get<"fc2.weight">(), expected2, tol);
  check_close("fc3.weight after the fused update", params.template get<"fc3.weight">(), expected3, tol);
  check_close("fc1.bias after the fused update", params.template get<"fc1.bias">(), expected_b1, tol);
  check_close("fc2.bias after the fused update", params.template get<"fc2.bias">(), expected_b2, tol);
  check_close("fc3.bias after the fused update", params.template get<"fc3.bias">(), expected_b3, tol);
  auto momentum_trainer = tl::compile<Arch>(N::loss, tl::optim::sgd{.lr = lr, .momentum = 0.9f});
  momentum_trainer.step(with_momentum, N::X = x, N::T = t);
  check_close("fc1.weight after the fused momentum update", with_momentum.template get<"fc1.weight">(), expected, tol);
  check_close("fc2.weight after the fused momentum update", with_momentum.template get<"fc2.weight">(), expected2, tol);
  check_close("fc3.weight after the fused momentum update", with_momentum.template get<"fc3.weight">(), expected3, tol);
  check_close("fc1.bias after the fused momentum update", with_momentum.template get<"fc1.bias">(), expected_b1, tol);
  check_close("fc2.bias after the fused momentum update", with_momentum.template get<"fc2.bias">(), expected_b2, tol);
  check_close("fc3.bias after the fused momentum update", with_momentum.template get<"fc3.bias">(), expected_b3, tol);

  // A weight written through a reference between calls is what the next call reads.
  auto& w3 = params.template get<"fc3.weight">();
  auto& b3 = params.template get<"fc3.bias">();
  for (std::size_t i = 0; i < w3.size(); ++i) w3[i] = 0;
  for (std::size_t i = 0; i < b3.size(); ++i) b3[i] = 0.25f * float(i + 1);
  const auto& y = predict(params, N::X = x);
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < Out; ++o) BOOST_TEST(y(b, o) == 0.25f * float(o + 1));
  const auto& yp = packed(params, N::X = x);  // the references were taken after its last call
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t o = 0; o < Out; ++o) BOOST_TEST(yp(b, o) == 0.25f * float(o + 1));
}

template <class Arch>
void check_all() {
  check_net<Arch, 1, 16, 32, 1>();  // W1: whole batches of k, one output alone
  check_net<Arch, 2, 16, 32, 1>();
  check_net<Arch, 3, 16, 32, 1>();
  check_net<Arch, 1, 12, 20, 3>();  // k and outputs in no whole batch
  check_net<Arch, 2, 12, 20, 3>();
  check_net<Arch, 3, 12, 20, 3>();
  check_net<Arch, 1, 64, 64, 16>();  // the largest inlined product, 64x64
  check_net<Arch, 1, 16, 16, 16>();  // one batch of outputs per k (AVX-512: splats of x in registers)
  // Plain SGD's outer-product update held in registers a few vectors of x at
  // a time: rows of 48 (3 vectors on AVX-512, 6 on AVX2: two runs of 3) and
  // of 40 (5 on AVX2: five runs of 1).
  check_net<Arch, 1, 48, 40, 2>();
}

// pack_weights keeps a transposed copy only where reading it by broadcasts
// measured faster than the dot products (packed_weights.hpp): with AVX-512
// where k <= n, with AVX2 where the outputs are three batches or more.
template <class Arch, std::size_t In, std::size_t Out>
constexpr std::size_t packed_bytes =
    decltype(tl::compile<Arch>(tl::nn::linear<"dense", Out>(tl::input<"X", float, 1, In>)))::packed_weight_bytes;
#if XSIMD_WITH_AVX512F
static_assert(packed_bytes<xsimd::avx512f, 16, 16> == 16 * 16 * sizeof(float));
static_assert(packed_bytes<xsimd::avx512f, 32, 32> == 32 * 32 * sizeof(float));
static_assert(packed_bytes<xsimd::avx512f, 64, 16> == 0);
static_assert(packed_bytes<xsimd::avx512f, 32, 16> == 0);
#endif
#if XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
static_assert(packed_bytes<xsimd::fma3<xsimd::avx2>, 16, 24> == 16 * 24 * sizeof(float));
static_assert(packed_bytes<xsimd::fma3<xsimd::avx2>, 32, 32> == 32 * 32 * sizeof(float));
static_assert(packed_bytes<xsimd::fma3<xsimd::avx2>, 16, 16> == 0);
static_assert(packed_bytes<xsimd::fma3<xsimd::avx2>, 64, 16> == 0);
#endif

}  // namespace

BOOST_AUTO_TEST_CASE(small_batches_match_a_double_reference_with_the_widest_instruction_set) {
  BOOST_TEST_MESSAGE("default architecture: " << xsimd::default_arch::name());
  check_all<xsimd::default_arch>();
}

#if XSIMD_WITH_AVX2 && XSIMD_WITH_FMA3_AVX2
BOOST_AUTO_TEST_CASE(small_batches_match_a_double_reference_with_avx2) { check_all<xsimd::fma3<xsimd::avx2>>(); }
#endif
