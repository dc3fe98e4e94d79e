// W1 and W2 written by hand, as an expert writes them for one network: every
// buffer preallocated, weights kept transposed ([in, out]) so that the
// forward pass and the weight gradient are broadcast-and-FMA loops, xsimd
// batches, a register-blocked matmul (8 rows x 2 batches, K-blocked, padded
// leading dimensions), bias/ReLU in the matmul's epilogue, and the SGD
// update fused into the weight-gradient matmul's epilogue (a weight gradient
// is never stored). This is the bar tapeless is measured against.

#include <xsimd/xsimd.hpp>

// xsimd 8.1's haddp sums the wrong lanes of AVX-512 floats (its results came
// out permuted, and W1's input gradient with them): the reduction of L rows
// at once is tapeless's transpose-and-add tree on xsimd (W - 1 folds of a
// permute, two blends and an add), correct on every instruction set. Nothing
// else of tapeless is used here.
#include <tapeless/simd/detail/lane_sums.hpp>

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace peers = tapeless::bench::peers;

namespace {

using vf = xsimd::batch<float>;
constexpr std::size_t L = vf::size;

// 64-byte aligned, zeroed floats.
struct buffer {
  explicit buffer(std::size_t n) : p(static_cast<float*>(std::aligned_alloc(64, ((n * 4 + 63) / 64) * 64))) {
    std::memset(p.get(), 0, n * 4);
  }
  float* data() const { return p.get(); }
  float& operator[](std::size_t i) const { return p.get()[i]; }
  struct free_deleter {
    void operator()(float* q) const { std::free(q); }
  };
  std::unique_ptr<float, free_deleter> p;
};

// ---- W1: 16-32-32-1, tanh, MSE, plain SGD ---------------------------------

template <std::size_t B>
struct w1_net {
  static constexpr std::size_t I = peers::w1::in, H = peers::w1::hidden, V = H / L;
  static_assert(H % L == 0);
  alignas(64) float wt1[I][H], b1[H], wt2[H][H], b2[H], w3[H], b3;  // wt: [in][out]
  alignas(64) float h1[B][H], h2[B][H], dz2[B][H], dz1[B][H], e[B];

  void load(const std::vector<float>& w) {
    const float* p = w.data();
    for (std::size_t o = 0; o < H; ++o)
      for (std::size_t i = 0; i < I; ++i) wt1[i][o] = *p++;
    for (std::size_t o = 0; o < H; ++o) b1[o] = *p++;
    for (std::size_t o = 0; o < H; ++o)
      for (std::size_t i = 0; i < H; ++i) wt2[i][o] = *p++;
    for (std::size_t o = 0; o < H; ++o) b2[o] = *p++;
    for (std::size_t i = 0; i < H; ++i) w3[i] = *p++;
    b3 = *p++;
  }

  // h = tanh(b + x W^T) for one sample, x of length K.
  template <std::size_t K>
  static void dense_tanh(const float* x, const float (*wt)[H], const float* b, float* h) {
    vf acc[V];
    for (std::size_t v = 0; v < V; ++v) acc[v] = vf::load_aligned(b + v * L);
    for (std::size_t k = 0; k < K; ++k) {
      const vf xk(x[k]);
      for (std::size_t v = 0; v < V; ++v) acc[v] = xsimd::fma(xk, vf::load_aligned(wt[k] + v * L), acc[v]);
    }
    for (std::size_t v = 0; v < V; ++v) xsimd::tanh(acc[v]).store_aligned(h + v * L);
  }

  float forward(const float* x, std::size_t s) {
    dense_tanh<I>(x, wt1, b1, h1[s]);
    dense_tanh<H>(h1[s], wt2, b2, h2[s]);
    vf acc = vf::load_aligned(w3) * vf::load_aligned(h2[s]);
    for (std::size_t v = 1; v < V; ++v) acc = xsimd::fma(vf::load_aligned(w3 + v * L), vf::load_aligned(h2[s] + v * L), acc);
    return xsimd::hadd(acc) + b3;
  }

  float infer(const float* x) { return forward(x, 0); }

  // x: B samples of I, t: B targets. Returns the mean squared error.
  float step(const float* x, const float* t, float lr) {
    float loss = 0;
    const float scale = 2.0f / float(B);
    for (std::size_t s = 0; s < B; ++s) {
      const float d = forward(x + s * I, s) - t[s];
      loss += d * d;
      e[s] = scale * d;
    }
    // dz2 = e w3 (1 - h2^2), per sample.
    for (std::size_t s = 0; s < B; ++s) {
      const vf es(e[s]);
      for (std::size_t v = 0; v < V; ++v) {
        const vf h = vf::load_aligned(h2[s] + v * L);
        (es * vf::load_aligned(w3 + v * L) * (vf(1.f) - h * h)).store_aligned(dz2[s] + v * L);
      }
    }
    // dz1 = (W2^T dz2) (1 - h1^2) with the weights before the update: for each
    // sample, L rows of W2^T at a time, reduced across lanes together (lane_sums).
    for (std::size_t s = 0; s < B; ++s)
      for (std::size_t k0 = 0; k0 < H; k0 += L) {
        vf rows[L];
        for (std::size_t r = 0; r < L; ++r) {
          vf acc = vf::load_aligned(wt2[k0 + r]) * vf::load_aligned(dz2[s]);
          for (std::size_t v = 1; v < V; ++v)
            acc = xsimd::fma(vf::load_aligned(wt2[k0 + r] + v * L), vf::load_aligned(dz2[s] + v * L), acc);
          rows[r] = acc;
        }
        const vf h = vf::load_aligned(h1[s] + k0);
        (tapeless::simd::detail::lane_sums(rows) * (vf(1.f) - h * h)).store_aligned(dz1[s] + k0);
      }
    // Updates, the gradient of each row accumulated in registers over the batch.
    const vf neg_lr(-lr);
    float gb3 = 0;
    for (std::size_t s = 0; s < B; ++s) gb3 += e[s];
    for (std::size_t v = 0; v < V; ++v) {  // w3 -= lr sum_s e_s h2_s
      vf g(0.f);
      for (std::size_t s = 0; s < B; ++s) g = xsimd::fma(vf(e[s]), vf::load_aligned(h2[s] + v * L), g);
      xsimd::fma(neg_lr, g, vf::load_aligned(w3 + v * L)).store_aligned(w3 + v * L);
    }
    b3 -= lr * gb3;
    update_layer<H>(h1, dz2, wt2, b2, neg_lr);
    update_layer_input<I>(x, dz1, wt1, b1, neg_lr);
    return loss / float(B);
  }

  // wt[k] -= lr sum_s a[s][k] dz[s]; b -= lr sum_s dz[s].
  template <std::size_t K>
  static void update_layer(const float (*a)[H], const float (*dz)[H], float (*wt)[H], float* b, vf neg_lr) {
    for (std::size_t k = 0; k < K; ++k) {
      vf g[V];
      for (std::size_t v = 0; v < V; ++v) g[v] = vf(0.f);
      for (std::size_t s = 0; s < B; ++s) {
        const vf ak(a[s][k]);
        for (std::size_t v = 0; v < V; ++v) g[v] = xsimd::fma(ak, vf::load_aligned(dz[s] + v * L), g[v]);
      }
      for (std::size_t v = 0; v < V; ++v)
        xsimd::fma(neg_lr, g[v], vf::load_aligned(wt[k] + v * L)).store_aligned(wt[k] + v * L);
    }
    update_bias(dz, b, neg_lr);
  }
  template <std::size_t K>
  static void update_layer_input(const float* x, const float (*dz)[H], float (*wt)[H], float* b, vf neg_lr) {
    for (std::size_t k = 0; k < K; ++k) {
      vf g[V];
      for (std::size_t v = 0; v < V; ++v) g[v] = vf(0.f);
      for (std::size_t s = 0; s < B; ++s) {
        const vf ak(x[s * K + k]);
        for (std::size_t v = 0; v < V; ++v) g[v] = xsimd::fma(ak, vf::load_aligned(dz[s] + v * L), g[v]);
      }
      for (std::size_t v = 0; v < V; ++v)
        xsimd::fma(neg_lr, g[v], vf::load_aligned(wt[k] + v * L)).store_aligned(wt[k] + v * L);
    }
    update_bias(dz, b, neg_lr);
  }
  static void update_bias(const float (*dz)[H], float* b, vf neg_lr) {
    for (std::size_t v = 0; v < V; ++v) {
      vf g(0.f);
      for (std::size_t s = 0; s < B; ++s) g += vf::load_aligned(dz[s] + v * L);
      xsimd::fma(neg_lr, g, vf::load_aligned(b + v * L)).store_aligned(b + v * L);
    }
  }
};

// ---- dense N x N at batch 1 -------------------------------------------------

// y = W x + b with the weights kept as [in][out]: N / L accumulators started
// from the bias, one broadcast and N / L FMAs per input.
template <std::size_t N>
struct dense_net {
  static constexpr std::size_t V = N / L;
  static_assert(N % L == 0);
  alignas(64) float wt[N][N], b[N], y[N];

  void load(const std::vector<float>& w) {
    for (std::size_t o = 0; o < N; ++o)
      for (std::size_t i = 0; i < N; ++i) wt[i][o] = w[o * N + i];
    for (std::size_t o = 0; o < N; ++o) b[o] = w[N * N + o];
  }

  const float* infer(const float* x) {
    vf acc[V];
    for (std::size_t v = 0; v < V; ++v) acc[v] = vf::load_aligned(b + v * L);
    for (std::size_t k = 0; k < N; ++k) {
      const vf xk(x[k]);
      for (std::size_t v = 0; v < V; ++v) acc[v] = xsimd::fma(xk, vf::load_aligned(wt[k] + v * L), acc[v]);
    }
    for (std::size_t v = 0; v < V; ++v) acc[v].store_aligned(y + v * L);
    return y;
  }
};

template <std::size_t N>
void dense_workload(peers::driver& d, const char* name) {
  const peers::dense_data data(N);
  auto net = std::make_unique<dense_net<N>>();
  d.workload(
      name, [&] { net->load(data.weights); },
      [&](std::uint64_t i) {
        const std::size_t s = i % peers::dense::samples;
        return double(net->infer(&data.x[s * N])[i % N]);
      });
}

// ---- W2: 784-256-128-10, ReLU, softmax cross-entropy, SGD momentum ---------

// Rows per register block: MR x 2 accumulator batches plus the operands fit
// the register file (16 ymm with AVX2, 32 zmm with AVX-512).
constexpr std::size_t MR = L >= 16 ? 8 : 6;

enum class epilogue { store, bias, bias_relu, sgd_momentum };

struct epilogue_args {
  const float* bias = nullptr;
  float* velocity = nullptr;  // sgd_momentum: same layout (and leading dimension) as C
  float lr = 0, momentum = 0;
  bool first_step = false;
};

// C[i][j] (+)= sum_k A(i, k) B[k][j] for one MR x (NV L) block: A(i, k) at
// a[i * ars + k * acs], B row-major with leading dimension ldb. With
// `accumulate` the block starts from C; when `last`, the epilogue consumes
// the accumulators, otherwise they are stored to C as they are.
template <std::size_t MR, std::size_t NV, epilogue E>
inline void micro_kernel(std::size_t K, const float* a, std::size_t ars, std::size_t acs, const float* b,
                         std::size_t ldb, float* c, std::size_t ldc, bool accumulate, bool last,
                         const epilogue_args& ep, std::size_t j0, float* vel) {
  vf acc[MR][NV];
  for (std::size_t r = 0; r < MR; ++r)
    for (std::size_t v = 0; v < NV; ++v) acc[r][v] = accumulate ? vf::load_aligned(c + r * ldc + v * L) : vf(0.f);
  for (std::size_t k = 0; k < K; ++k) {
    vf bk[NV];
    for (std::size_t v = 0; v < NV; ++v) bk[v] = vf::load_aligned(b + k * ldb + v * L);
    const float* ak = a + k * acs;
    for (std::size_t r = 0; r < MR; ++r) {
      const vf ar(ak[r * ars]);
      for (std::size_t v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(ar, bk[v], acc[r][v]);
    }
  }
  if (E == epilogue::store || !last) {
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t v = 0; v < NV; ++v) acc[r][v].store_aligned(c + r * ldc + v * L);
  } else if constexpr (E == epilogue::bias || E == epilogue::bias_relu) {
    for (std::size_t v = 0; v < NV; ++v) {
      const vf bias = vf::load_aligned(ep.bias + j0 + v * L);
      for (std::size_t r = 0; r < MR; ++r) {
        vf z = acc[r][v] + bias;
        if constexpr (E == epilogue::bias_relu) z = xsimd::max(z, vf(0.f));
        z.store_aligned(c + r * ldc + v * L);
      }
    }
  } else if constexpr (E == epilogue::sgd_momentum) {
    // torch.optim.SGD: v = g on the first step, v = m v + g later; w -= lr v.
    const vf m(ep.first_step ? 0.f : ep.momentum), neg_lr(-ep.lr);
    for (std::size_t r = 0; r < MR; ++r)
      for (std::size_t v = 0; v < NV; ++v) {
        float* pv = vel + r * ldc + v * L;
        float* pw = c + r * ldc + v * L;
        const vf nv = xsimd::fma(m, vf::load_aligned(pv), acc[r][v]);
        nv.store_aligned(pv);
        xsimd::fma(neg_lr, nv, vf::load_aligned(pw)).store_aligned(pw);
      }
  }
}

// The whole product, M x N (M a multiple of MR, N of NV L), blocked over K
// by kc so that a strip of B stays in L1 across the row blocks.
template <std::size_t NV, epilogue E>
void gemm(std::size_t M, std::size_t N, std::size_t K, const float* a, std::size_t ars, std::size_t acs,
          const float* b, std::size_t ldb, float* c, std::size_t ldc, const epilogue_args& ep = {},
          std::size_t kc = 256) {
  for (std::size_t k0 = 0; k0 < K; k0 += kc) {
    const std::size_t kn = std::min(kc, K - k0);
    const bool last = k0 + kn == K;
    for (std::size_t j = 0; j < N; j += NV * L) {
      const auto block = [&]<std::size_t R>(std::size_t i) {
        micro_kernel<R, NV, E>(kn, a + i * ars + k0 * acs, ars, acs, b + k0 * ldb + j, ldb, c + i * ldc + j, ldc,
                               k0 > 0, last, ep, j, ep.velocity ? ep.velocity + i * ldc + j : nullptr);
      };
      std::size_t i = 0;
      for (; i + MR <= M; i += MR) block.template operator()<MR>(i);
      switch (M - i) {  // the last rows
        case 0: break;
        case 1: block.template operator()<1>(i); break;
        case 2: block.template operator()<2>(i); break;
        case 3: block.template operator()<3>(i); break;
        case 4: block.template operator()<4>(i); break;
        case 5: block.template operator()<5>(i); break;
        case 6: block.template operator()<6>(i); break;
        case 7: block.template operator()<7>(i); break;
      }
    }
  }
}

// Padded leading dimensions: rows of 2^n floats would map a column strip of
// a matrix onto a few cache sets.
constexpr std::size_t pad(std::size_t n) { return n + L; }

struct w2_net {
  static constexpr std::size_t Bt = peers::w2::batch, I = peers::w2::in, H1 = peers::w2::h1,
                               H2 = peers::w2::h2, O = peers::w2::out,
                               OP = (O + L - 1) / L * L, NV3 = OP / L;  // O padded to whole batches
  static_assert(MR < 8 + 1 && Bt % L == 0 && H1 % (2 * L) == 0 && H2 % (2 * L) == 0);
  static constexpr std::size_t ld1 = pad(H1), ld2 = pad(H2), ld3 = OP, ldb = pad(Bt);

  // Weights as [in][out] (ld padded) with their momentum buffers, biases.
  buffer wt1{I * ld1}, wt2{H1 * ld2}, wt3{H2 * ld3}, b1{H1}, b2{H2}, b3{OP};
  buffer vt1{I * ld1}, vt2{H1 * ld2}, vt3{H2 * ld3}, vb1{H1}, vb2{H2}, vb3{OP};
  // Activations (batch-major) and gradients; "T" buffers are feature-major.
  buffer h1{Bt * ld1}, h2{Bt * ld2}, z3{Bt * ld3}, dz3{Bt * ld3}, dz3T{OP * ldb}, dh2T{H2 * ldb},
      dz2{Bt * ld2}, dz2T{H2 * ldb}, dh1T{H1 * ldb}, dz1{Bt * ld1};
  bool first_step = true;

  void load(const std::vector<float>& w) {
    const float* p = w.data();
    auto take = [&](float* wt, std::size_t ld, float* bias, std::size_t in, std::size_t out, std::size_t out_pad) {
      for (std::size_t i = 0; i < in; ++i)
        for (std::size_t o = out; o < out_pad; ++o) wt[i * ld + o] = 0;
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t i = 0; i < in; ++i) wt[i * ld + o] = *p++;
      for (std::size_t o = 0; o < out_pad; ++o) bias[o] = o < out ? *p++ : 0.f;
    };
    take(wt1.data(), ld1, b1.data(), I, H1, H1);
    take(wt2.data(), ld2, b2.data(), H1, H2, H2);
    take(wt3.data(), ld3, b3.data(), H2, O, OP);
    std::memset(vt1.data(), 0, I * ld1 * 4);
    std::memset(vt2.data(), 0, H1 * ld2 * 4);
    std::memset(vt3.data(), 0, H2 * ld3 * 4);
    std::memset(vb1.data(), 0, H1 * 4);
    std::memset(vb2.data(), 0, H2 * 4);
    std::memset(vb3.data(), 0, OP * 4);
    first_step = true;
  }

  // b -= lr v, v = m v + sum_s dz[s] (torch's first step: v = g).
  void update_bias(const float* dz, std::size_t ld, std::size_t n, float* b, float* v) const {
    const vf m(first_step ? 0.f : peers::w2::momentum), neg_lr(-peers::w2::lr);
    for (std::size_t j = 0; j < n; j += L) {
      vf g(0.f);
      for (std::size_t s = 0; s < Bt; ++s) g += vf::load_aligned(dz + s * ld + j);
      const vf nv = xsimd::fma(m, vf::load_aligned(v + j), g);
      nv.store_aligned(v + j);
      xsimd::fma(neg_lr, nv, vf::load_aligned(b + j)).store_aligned(b + j);
    }
  }

  // dz[s][i] = dhT[i][s] if h[s][i] > 0 else 0, and its transpose dzT.
  static void relu_backward(const float* dhT, const float* h, std::size_t ldh, std::size_t n, float* dz,
                            float* dzT) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t s = 0; s < Bt; ++s) {
        const float g = h[s * ldh + i] > 0 ? dhT[i * ldb + s] : 0.f;
        dz[s * ldh + i] = g;
        if (dzT) dzT[i * ldb + s] = g;
      }
  }

  float step(const float* x, const std::int32_t* y) {
    using peers::w2::lr;
    using peers::w2::momentum;
    // Forward.
    gemm<2, epilogue::bias_relu>(Bt, H1, I, x, I, 1, wt1.data(), ld1, h1.data(), ld1, {.bias = b1.data()});
    gemm<2, epilogue::bias_relu>(Bt, H2, H1, h1.data(), ld1, 1, wt2.data(), ld2, h2.data(), ld2, {.bias = b2.data()});
    gemm<NV3, epilogue::bias>(Bt, OP, H2, h2.data(), ld2, 1, wt3.data(), ld3, z3.data(), ld3, {.bias = b3.data()});
    // Softmax cross-entropy, mean over the batch; dz3 = (softmax - onehot) / B.
    float loss = 0;
    for (std::size_t s = 0; s < Bt; ++s) {
      const float* z = z3.data() + s * ld3;
      float* d = dz3.data() + s * ld3;
      float mx = z[0];
      for (std::size_t o = 1; o < O; ++o) mx = std::max(mx, z[o]);
      float sum = 0;
      for (std::size_t o = 0; o < O; ++o) sum += (d[o] = std::exp(z[o] - mx));
      loss += std::log(sum) + mx - z[y[s]];
      const float inv = 1.f / (sum * float(Bt));
      for (std::size_t o = 0; o < O; ++o) d[o] *= inv;
      d[y[s]] -= 1.f / float(Bt);
      for (std::size_t o = 0; o < O; ++o) dz3T[o * ldb + s] = d[o];  // pad rows stay 0
    }
    const epilogue_args sgd{.lr = lr, .momentum = momentum, .first_step = first_step};
    // Layer 3: input gradient with the old weights, then the fused update.
    gemm<2, epilogue::store>(H2, Bt, O, wt3.data(), ld3, 1, dz3T.data(), ldb, dh2T.data(), ldb);
    {
      auto ep = sgd;
      ep.velocity = vt3.data();
      gemm<NV3, epilogue::sgd_momentum>(H2, OP, Bt, h2.data(), 1, ld2, dz3.data(), ld3, wt3.data(), ld3, ep);
      update_bias(dz3.data(), ld3, OP, b3.data(), vb3.data());
    }
    // Layer 2.
    relu_backward(dh2T.data(), h2.data(), ld2, H2, dz2.data(), dz2T.data());
    gemm<2, epilogue::store>(H1, Bt, H2, wt2.data(), ld2, 1, dz2T.data(), ldb, dh1T.data(), ldb);
    {
      auto ep = sgd;
      ep.velocity = vt2.data();
      gemm<2, epilogue::sgd_momentum>(H1, H2, Bt, h1.data(), 1, ld1, dz2.data(), ld2, wt2.data(), ld2, ep);
      update_bias(dz2.data(), ld2, H2, b2.data(), vb2.data());
    }
    // Layer 1: no input gradient.
    relu_backward(dh1T.data(), h1.data(), ld1, H1, dz1.data(), nullptr);
    {
      auto ep = sgd;
      ep.velocity = vt1.data();
      gemm<2, epilogue::sgd_momentum>(I, H1, Bt, x, 1, I, dz1.data(), ld1, wt1.data(), ld1, ep);
      update_bias(dz1.data(), ld1, H1, b1.data(), vb1.data());
    }
    first_step = false;
    return loss / float(Bt);
  }
};

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  {
    const peers::w1_data data(d.dir());
    namespace w = peers::w1;
    auto n1 = std::make_unique<w1_net<1>>();
    d.workload(
        "w1_train_b1", [&] { n1->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = i % w::samples;
          return double(n1->step(&data.x[s * w::in], &data.t[s], w::lr));
        });
    auto n32 = std::make_unique<w1_net<32>>();
    d.workload(
        "w1_train_b32", [&] { n32->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = (i % (w::samples / 32)) * 32;
          return double(n32->step(&data.x[s * w::in], &data.t[s], w::lr));
        });
    d.workload(
        "w1_infer_b1", [&] { n1->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = i % w::samples;
          return double(n1->infer(&data.x[s * w::in]));
        });
  }
  dense_workload<16>(d, "dense16_infer_b1");
  dense_workload<64>(d, "dense64_infer_b1");
  {
    const peers::w2_data data(d.dir());
    namespace w = peers::w2;
    auto net = std::make_unique<w2_net>();
    d.workload(
        "w2_train_b64", [&] { net->load(data.weights); },
        [&](std::uint64_t i) {
          const std::size_t s = (i % w::batches) * w::batch;
          return double(net->step(&data.x[s * w::in], &data.y[s]));
        });
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "handwritten_mlp: %s\n", e.what());
  return 1;
}
