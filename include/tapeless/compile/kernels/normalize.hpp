#pragma once
// normalize_last_axis and its backward node (expr/normalize.hpp): row kernels.
// Each row of D elements (the last axis) is read from memory a few times
// while it is in cache: its sum, then its squared deviations around the mean
// (a second pass, never E[x^2] - E[x]^2, which cancels), then the pass that
// writes. The backward kernel recomputes the row's mean and rstd the same
// way, sums g and g * y, and writes rstd * (g - mean(g) - y * mean(g * y)).
//
// On a pool's threads a large normalization splits its rows into shares as
// an elementwise loop of its size would (loop_shares); each row is computed
// whole by one thread, so the results are one thread's bit for bit.

#include <cmath>
#include <cstddef>
#include <type_traits>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/normalize.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/map.hpp>
#include <tapeless/simd/sum.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

struct normalize_last_axis_family : kernel_family_defaults {
  // Its kernel writes every element of its result: an output that is its only user takes it there.
  static constexpr bool writes_output_in_place = true;

  // A row's mean and 1 / sqrt(var + eps), var the biased variance.
  template <class Arch, std::size_t D, class T>
  struct row_statistics {
    T mean, rstd;
    TAPELESS_ALWAYS_INLINE row_statistics(const T* x, double eps) noexcept {
      mean = simd::sum<Arch>(D, x) / T(D);
      const T m = mean;
      const T squares = simd::sum<Arch>(
          D,
          [m](auto v) {
            const auto d = v - decltype(v)(m);
            return d * d;
          },
          simd::in(x));
      rstd = T(1) / std::sqrt(squares / T(D) + T(eps));
    }
  };

  template <class Sched, int I, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    using Op = typename N::operation;
    using X = shape_of<operand_type<N, 0>>;
    constexpr std::size_t D = X::dims[X::rank - 1], rows = X::size / D;
    constexpr bool backward = std::is_same_v<Op, normalize_last_axis_backward_op<Op::eps>>;
    const T* x = operand_pointer<Sched, I, 0>(c);
    T* out = Sched::template destination<I>(c);
    if constexpr (!backward) {
      over_shares<loop_shares<X::size>>(c, rows, [&](std::size_t first, std::size_t last, std::size_t) {
        for (std::size_t r = first; r < last; ++r) {
          const row_statistics<Arch, D, T> s(x + r * D, Op::eps);
          const T mean = s.mean, rstd = s.rstd;
          simd::map<Arch>(
              D, [mean, rstd](auto v) { return (v - decltype(v)(mean)) * decltype(v)(rstd); }, simd::in(x + r * D),
              simd::out(out + r * D));
        }
      });
    } else {
      const T* g = operand_pointer<Sched, I, 1>(c);
      over_shares<loop_shares<X::size>>(c, rows, [&](std::size_t first, std::size_t last, std::size_t) {
        for (std::size_t r = first; r < last; ++r) {
          const T* xr = x + r * D;
          const T* gr = g + r * D;
          const row_statistics<Arch, D, T> s(xr, Op::eps);
          const T mean = s.mean, rstd = s.rstd;
          const T g_mean = simd::sum<Arch>(D, gr) / T(D);
          const T gy_mean = simd::sum<Arch>(
                                D,
                                [mean, rstd](auto v, auto gv) {
                                  return gv * ((v - decltype(v)(mean)) * decltype(v)(rstd));
                                },
                                simd::in(xr, gr)) /
                            T(D);
          simd::map<Arch>(
              D,
              [mean, rstd, g_mean, gy_mean](auto v, auto gv) {
                using V = decltype(v);
                const auto y = (v - V(mean)) * V(rstd);
                return V(rstd) * (gv - V(g_mean) - y * V(gy_mean));
              },
              simd::in(xr, gr), simd::out(out + r * D));
        }
      });
    }
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <structural_double Eps>
struct op_family<normalize_last_axis_op<Eps>> {
  using type = normalize_last_axis_family;
};
template <structural_double Eps>
struct op_family<normalize_last_axis_backward_op<Eps>> {
  using type = normalize_last_axis_family;
};

}  // namespace tapeless::detail
