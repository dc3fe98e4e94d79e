// W3 with ADOL-C (Debian libadolc-dev), operator overloading onto a tape:
// each function is taped once (trace_on / trace_off), then every call is a
// zero-order forward sweep that keeps the values (the function's value) and
// a first-order reverse sweep (the gradient), i.e. what gradient() does, with
// the value returned too. Log-sum-exp is taped without the max shift (the
// inputs are in [-1, 1]; the value agrees with the shifted one to rounding).

#include <adolc/adolc.h>

#include "common.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace peers = tapeless::bench::peers;

namespace {

short next_tag = 1;

// Tapes f over n independents at x; returns the tape's tag.
template <class F>
short tape(std::size_t n, const double* x, F f) {
  const short tag = next_tag++;
  trace_on(tag, 1);
  std::vector<adouble> a(n);
  for (std::size_t k = 0; k < n; ++k) a[k] <<= x[k];
  adouble y = f(a);
  double out;
  y >>= out;
  trace_off();
  return tag;
}

}  // namespace

int main(int argc, char** argv) try {
  peers::driver d(argc, argv);
  const peers::w3_data data(d.dir());
  static double g[peers::w3::max_n];
  const auto none = [] {};
  for (std::size_t n : {10, 100, 1000}) {
    const std::string sn = "_n" + std::to_string(n);
    const auto add = [&](const std::string& name, short tag, std::size_t vars, const double* x) {
      d.workload(
          name, none,
          [=](std::uint64_t) {
            double y, u = 1;
            zos_forward(tag, 1, int(vars), 1, x, &y);
            fos_reverse(tag, 1, int(vars), &u, g);
            return y;
          },
          [=](double v) { return peers::gradient_checksum(v, g, vars); });
    };
    add("w3_sum" + sn, tape(n, data.x.data(), [&](const std::vector<adouble>& a) {
          adouble s = a[0];
          for (std::size_t k = 1; k < n; ++k) s += a[k];
          return s;
        }), n, data.x.data());
    add("w3_product" + sn, tape(n, data.p.data(), [&](const std::vector<adouble>& a) {
          adouble s = a[0];
          for (std::size_t k = 1; k < n; ++k) s *= a[k];
          return s;
        }), n, data.p.data());
    add("w3_logsumexp" + sn, tape(n, data.x.data(), [&](const std::vector<adouble>& a) {
          adouble s = exp(a[0]);
          for (std::size_t k = 1; k < n; ++k) s += exp(a[k]);
          return adouble(log(s));
        }), n, data.x.data());
    static double ms[2];
    ms[0] = data.mu, ms[1] = data.sigma;
    const double* y = data.y.data();
    add("w3_normal" + sn, tape(2, ms, [&](const std::vector<adouble>& a) {
          adouble s = 0;
          for (std::size_t k = 0; k < n; ++k) {
            adouble z = (y[k] - a[0]) / a[1];
            s += z * z;
          }
          return adouble(-0.5 * s - double(n) * log(a[1]) - double(n) * 0.91893853320467274178);
        }), 2, ms);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scalar_adolc: %s\n", e.what());
  return 1;
}
