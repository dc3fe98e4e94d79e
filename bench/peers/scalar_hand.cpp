// W3 by hand: the value and gradient of each scalar AD benchmark function at
// n = 10, 100, 1000 (float64), as an expert writes them: one or two passes,
// xsimd batches for the reductions and exp (GCC leaves a plain double sum
// scalar without -ffast-math), one reciprocal where the formula divides.
//   sum          f = sum x,                 g = 1
//   product      f = prod x,                g_k = f / x_k (inputs in [0.5, 1.5], never 0)
//   log-sum-exp  f = m + log sum exp(x - m) (m the maximum), g = exp(x - f)
//   normal       f = sum log N(y_k | mu, sigma), gradient in (mu, sigma)

#include <xsimd/xsimd.hpp>

#include "common.hpp"

#include <cmath>
#include <string>

namespace peers = tapeless::bench::peers;

namespace {

using vd = xsimd::batch<double>;
constexpr std::size_t L = vd::size;

// Every n here is a multiple of 2 but not of every L: a scalar tail.
double sum_grad(const double* x, std::size_t n, double* g) {
  vd acc0(0.), acc1(0.);
  std::size_t k = 0;
  for (; k + 2 * L <= n; k += 2 * L) {
    acc0 += vd::load_unaligned(x + k);
    acc1 += vd::load_unaligned(x + k + L);
  }
  double s = xsimd::hadd(acc0 + acc1);
  for (; k < n; ++k) s += x[k];
  for (std::size_t j = 0; j < n; ++j) g[j] = 1.0;
  return s;
}

double product_grad(const double* x, std::size_t n, double* g) {
  vd acc0(1.), acc1(1.);
  std::size_t k = 0;
  for (; k + 2 * L <= n; k += 2 * L) {
    acc0 *= vd::load_unaligned(x + k);
    acc1 *= vd::load_unaligned(x + k + L);
  }
  alignas(64) double lanes[L];
  (acc0 * acc1).store_aligned(lanes);
  double p = 1;
  for (std::size_t l = 0; l < L; ++l) p *= lanes[l];
  for (; k < n; ++k) p *= x[k];
  const vd pv(p);
  for (k = 0; k + L <= n; k += L) (pv / vd::load_unaligned(x + k)).store_unaligned(g + k);
  for (; k < n; ++k) g[k] = p / x[k];
  return p;
}

double lse_grad(const double* x, std::size_t n, double* g) {
  std::size_t k = 0;
  vd mv(x[0]);
  for (; k + L <= n; k += L) mv = xsimd::max(mv, vd::load_unaligned(x + k));
  alignas(64) double lanes[L];
  mv.store_aligned(lanes);
  double m = lanes[0];
  for (std::size_t l = 1; l < L; ++l) m = std::max(m, lanes[l]);
  for (; k < n; ++k) m = std::max(m, x[k]);
  const vd mb(m);
  vd acc(0.);
  for (k = 0; k + L <= n; k += L) {
    const vd e = xsimd::exp(vd::load_unaligned(x + k) - mb);
    e.store_unaligned(g + k);
    acc += e;
  }
  double s = xsimd::hadd(acc);
  for (; k < n; ++k) s += (g[k] = std::exp(x[k] - m));
  const double inv = 1 / s;
  const vd iv(inv);
  for (k = 0; k + L <= n; k += L) (vd::load_unaligned(g + k) * iv).store_unaligned(g + k);
  for (; k < n; ++k) g[k] *= inv;
  return m + std::log(s);
}

// d/dmu = sum z / sigma, d/dsigma = (sum z^2 - n) / sigma, z = (y - mu) / sigma.
double normal_grad(const double* y, std::size_t n, double mu, double sigma, double* g) {
  const double inv = 1 / sigma;
  const vd muv(mu), iv(inv);
  vd s1(0.), s2(0.);
  std::size_t k = 0;
  for (; k + L <= n; k += L) {
    const vd z = (vd::load_unaligned(y + k) - muv) * iv;
    s1 += z;
    s2 = xsimd::fma(z, z, s2);
  }
  double sum = xsimd::hadd(s1), sum_sq = xsimd::hadd(s2);
  for (; k < n; ++k) {
    const double z = (y[k] - mu) * inv;
    sum += z;
    sum_sq += z * z;
  }
  g[0] = sum * inv;
  g[1] = (sum_sq - double(n)) * inv;
  return -0.5 * sum_sq - double(n) * std::log(sigma) - double(n) * 0.91893853320467274178;
}

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  const peers::w3_data data(d.dir());
  static double g[peers::w3::max_n];
  const auto none = [] {};
  for (std::size_t n : {10, 100, 1000}) {
    const std::string sn = "_n" + std::to_string(n);
    const auto checksum = [&](double v) { return peers::gradient_checksum(v, g, n); };
    const auto checksum2 = [&](double v) { return peers::gradient_checksum(v, g, 2); };
    d.workload("w3_sum" + sn, none, [&](std::uint64_t) { return sum_grad(data.x.data(), n, g); }, checksum);
    d.workload("w3_product" + sn, none, [&](std::uint64_t) { return product_grad(data.p.data(), n, g); }, checksum);
    d.workload("w3_logsumexp" + sn, none, [&](std::uint64_t) { return lse_grad(data.x.data(), n, g); }, checksum);
    d.workload("w3_normal" + sn, none,
               [&](std::uint64_t) { return normal_grad(data.y.data(), n, data.mu, data.sigma, g); }, checksum2);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scalar_hand: %s\n", e.what());
  return 1;
}
