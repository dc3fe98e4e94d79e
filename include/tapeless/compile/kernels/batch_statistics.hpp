#pragma once
// Batch norm's statistics (expr/batch_statistics.hpp). While a program steps
// (c.training) they are the batch's mean and biased variance per channel, and
// the kernels update the running estimates in the store as torch does; in a
// forward-only call they copy the running estimates (where they are still
// nodes then: a forward-only program reads the estimates as leaves instead,
// compile/kernel_form.hpp's forward_form, so that they read nothing else).
//
// Sums per channel: a SIMD sum over each plane (the elements of one image and
// channel), the planes' sums added in double, so that a channel of 64 x 28 x
// 28 elements loses no more than a plane does. The variance is a second pass
// around the mean (never E[x^2] - E[x]^2, which cancels).

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/conv2d.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/batch_statistics.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

template <class S>
inline constexpr bool is_buffer_symbol = false;
template <fixed_string Name, class T, class Shape>
inline constexpr bool is_buffer_symbol<symbol<Name, T, Shape, symbol_kind::buffer>> = true;

struct batch_statistics_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  // sum over each channel of f(x) (f applied per element, in batches and in the tail).
  template <class Arch, class X, class T, class F>
  TAPELESS_ALWAYS_INLINE static double channel_sum(const T* x, std::size_t channel, F f) noexcept {
    using V = xsimd::batch<T, Arch>;
    constexpr std::size_t batch = X::dims[0], channels = X::dims[1], plane = X::size / (batch * channels);
    double total = 0;
    for (std::size_t n = 0; n < batch; ++n) {
      const T* p = x + (n * channels + channel) * plane;
      V acc(T(0));
      T tail = 0;
      std::size_t i = 0;
      for (; i + V::size <= plane; i += V::size) acc += f(V::load_unaligned(p + i));
      for (; i < plane; ++i) tail += f(p[i]);
      total += double(xsimd::hadd(acc)) + double(tail);
    }
    return total;
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    using Op = typename N::operation;
    using XNode = operand_type<N, 0>;
    using X = shape_of<XNode>;
    constexpr bool is_mean = std::is_same_v<Op, batch_mean_op<Op::momentum>>;
    constexpr std::size_t channels = X::dims[1];
    constexpr double count = double(X::size / channels), momentum = Op::momentum;
    // Operands: (x, running_mean, num_batches_tracked) or (x, mean, running_var).
    using Estimate = operand_type<N, is_mean ? 1 : 2>;
    static_assert(is_buffer_symbol<Estimate>,
                  "tapeless: batch statistics read their running estimate from a tl::buffer symbol");
    T* out = Sched::template destination<I>(c);
    if (!c.training) {
      // Read through the const path: reading does not change the store's version.
      const auto* kept = std::as_const(c.params).template get<Estimate::name>().data();
      for (std::size_t k = 0; k < channels; ++k) out[k] = static_cast<T>(kept[k]);
      return;
    }
    auto* estimate = c.params.template get<Estimate::name>().data();
    const T* x = operand_pointer<Sched, I, 0>(c);
    if constexpr (is_mean) {
      for (std::size_t k = 0; k < channels; ++k) {
        const double mean = channel_sum<Arch, X>(x, k, [](auto v) { return v; }) / count;
        out[k] = static_cast<T>(mean);
        estimate[k] = static_cast<T>((1 - momentum) * double(estimate[k]) + momentum * mean);
      }
      using Count = operand_type<N, 2>;
      static_assert(is_buffer_symbol<Count>, "tapeless: batch_mean counts batches in a tl::buffer symbol");
      c.params.template get<Count::name>().data()[0] += 1;
    } else {
      const T* mean = operand_pointer<Sched, I, 1>(c);
      for (std::size_t k = 0; k < channels; ++k) {
        const T m = mean[k];
        const double squares = channel_sum<Arch, X>(x, k, [m](auto v) {
          const auto d = v - decltype(v)(m);
          return d * d;
        });
        out[k] = static_cast<T>(squares / count);
        // The running estimate takes the unbiased variance, as torch's.
        const double unbiased = squares / (count - 1);  // count > 1: nn/batch_norm.hpp checks
        estimate[k] = static_cast<T>((1 - momentum) * double(estimate[k]) + momentum * unbiased);
      }
    }
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <structural_double Momentum>
struct op_family<batch_mean_op<Momentum>> {
  using type = batch_statistics_family;
};
template <structural_double Momentum>
struct op_family<batch_variance_op<Momentum>> {
  using type = batch_statistics_family;
};

}  // namespace tapeless::detail
