#pragma once
// Reductions: sum, max and logsumexp over all elements or along axes
// (reduce_op<Kind, In, Out>). The operand's elementwise tree is computed
// inside the reduction's loop over In; Out's element for a loop position is
// found with Out's strides over In (0 along the reduced dimensions).
//
// logsumexp computes exp(a - m) for its sums (m the maximum); when the
// schedule reads softmax_of_logsumexp(a, this node) (logsumexp's gradient,
// tl::softmax), its kernel also keeps those values, divided by the sums, in
// its scratch, which lives as long as the result, and that node reads them
// there (a view: no kernel, no exponential computed again). Without such a
// reader nothing is stored: a forward-only logsumexp runs as before.
//
// A sum that is a parameter's gradient (a bias's: dY summed over the batch)
// may apply the optimizer's update itself, as a GEMM does for a weight
// (kernels/matmul.hpp): the new value is written where the reduction ends,
// and no pass after the backward pass reads the gradient back.

#include <cmath>
#include <cstddef>
#include <limits>
#include <type_traits>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/core/storage.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/epilogue.hpp>
#include <tapeless/simd/exp.hpp>
#include <tapeless/simd/fold.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// How a reduction's loop over In runs: flat (one run of In's elements, when
// it sums all of them and its tree allows), over merged planes (each plane
// [H, W] one run, when the result is constant along H and W and the tree
// allows: a convolution's bias gradient folds 784 elements at a time instead
// of 28, with one lane sum per plane instead of one per row), or row by row.
template <class Sched, class Ctx, int I, class In, class Out, class A,
          bool Flat = Out::size == 1 && loop_is_flat<Sched, Ctx, I, In, A>,
          bool Planes = !Flat && dim_from_right<Out>(0) == 1 && dim_from_right<Out>(1) == 1 &&
                        loop_over_planes<Sched, Ctx, I, In, A>>
struct reduce_loop {
  static constexpr bool flat = Flat;
  using values = fused_values<Sched, Ctx, I, In, Flat>;
  using map = operand_map<Out, In>;
};
template <class Sched, class Ctx, int I, class In, class Out, class A>
struct reduce_loop<Sched, Ctx, I, In, Out, A, false, true> {
  static constexpr bool flat = false;
  using values = plane_values<Sched, Ctx, I, In>;
  using map = operand_map<typename merged_operand_shape<Out, In>::type, typename merged_operand_shape<In, In>::type>;
};

struct reduce_family : kernel_family_defaults {
  // Its operand's tree runs inside its loop, which covers the operand's shape.
  static constexpr bool hosts_fused_operands = true;
  // Its result is a whole buffer: an output that is its only user takes it there.
  static constexpr bool writes_output_in_place = true;
  // A sum computing a parameter's gradient updates the parameter.
  static constexpr bool takes_update = true;

  template <class N, class T>
  static constexpr std::size_t loop_size() {
    return N::operation::input_shape::size;
  }
  // logsumexp keeps its sums of exp(a - max) beside the maxima, after the
  // softmax (one value per element of its operand) when a node of the
  // schedule (its nodes: Order) reads it: so the scratch lives with the result.
  template <class Order, class N>
  static constexpr bool softmax_read =
      contains<node<softmax_of_logsumexp_op, typename front<typename operands_of<N>::type>::type, N>, Order>;
  template <class Order, class N, class T>
  static constexpr std::size_t softmax_bytes =
      softmax_read<Order, N> ? align_up(N::operation::input_shape::size * sizeof(T)) : 0;
  template <class Order, class N, class T>
  static constexpr std::size_t scratch_bytes_in() {
    if constexpr (std::is_same_v<typename N::operation::kind, logsumexp_reduction>)
      return softmax_bytes<Order, N, T> + shape_of<N>::size * sizeof(T);
    else
      return 0;
  }
  static constexpr bool scratch_lives_with_result = true;

  template <class Sched, int I, class Ctx>
  TAPELESS_FLATTEN static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Op = typename N::operation;
    using In = typename Op::input_shape;
    using Out = shape_of<N>;
    using A = typename front<typename operands_of<N>::type>::type;
    constexpr std::size_t a = operand_index<Sched, static_cast<std::size_t>(I), 0>;
    using Kind = typename Op::kind;
    using L = reduce_loop<Sched, Ctx, I, In, Out, A>;
    constexpr bool flat = L::flat;
    using F = typename L::values;
    using map = typename L::map;
    using V = batch_of<T, typename Sched::arch>;
    constexpr std::size_t columns = F::columns, rows = In::size / columns;
    constexpr bool columns_kept = !flat && map::contiguous;  // else each row folds to one element
    constexpr bool is_max = std::is_same_v<Kind, max_reduction>;
    constexpr bool is_lse = std::is_same_v<Kind, logsumexp_reduction>;
    T* out = Sched::template destination<static_cast<std::size_t>(I)>(c);

    // One pass: acc[out(row, col)] (+ or max)= f(value(row, col)).
    auto pass = [&](T* acc, auto take_max_constant, auto f) {
      constexpr bool take_max = decltype(take_max_constant)::value;
      const T start = take_max ? -std::numeric_limits<T>::infinity() : T(0);
      // a + b, or the larger of a and b with a NaN in either winning (as in
      // torch.max; the max instructions return their second operand then).
      // NaN is tested as !(b == b): xsimd 8's b != b is an ordered compare on
      // AVX and AVX-512 lanes, false for NaN.
      auto combine = [](auto a, auto b) {
        if constexpr (!take_max)
          return a + b;
        else if constexpr (simd::batch_value<decltype(a)>)
          return xsimd::select(b > a || !(b == b), b, a);
        else
          return (b > a || b != b) ? b : a;
      };
      for (std::size_t j = 0; j < Out::size; ++j) acc[j] = start;
      for (std::size_t row = 0; row < rows; ++row) {
        const std::size_t at = flat ? 0 : map::row_offset(row);
        if constexpr (columns_kept) {
          simd::fused_loop<V::size>(columns, [&](std::size_t i, auto step, auto) {
            using U = std::conditional_t<decltype(step)::value == 1, T, V>;
            const U v = f(F::template value<a, U>(c, row, i), at, i, row);
            simd::store(acc + at + i, combine(simd::load<U>(acc + at + i), v));
          });
        } else {
          const auto folded = simd::fold<V>(
              columns, start,
              [&](std::size_t i, auto step) {
                using U = std::conditional_t<decltype(step)::value == 1, T, V>;
                return U(f(F::template value<a, U>(c, row, i), at, i, row));
              },
              combine);
          acc[at] = combine(acc[at], folded.join_lanes(combine));
        }
      }
    };
    auto identity = [](auto v, std::size_t, std::size_t, std::size_t) { return v; };

    constexpr int param = Sched::template gradient_of<I>;
    if constexpr (std::is_same_v<Kind, sum_reduction> && param >= 0 &&
                  Sched::template update_fusable<I, param> &&
                  Ctx::update_type::template fuses<static_cast<std::size_t>(param)>) {
      auto& value = Sched::template parameter_value<static_cast<std::size_t>(param)>(c);
      static_assert(std::remove_reference_t<decltype(value)>::size() == Out::size,
                    "tapeless::compile: a parameter's gradient has the parameter's size");
      T* p = value.data();
      // The update reads the parameter (and its optimizer state) as one row:
      // element j at row 0, column j, whatever the parameter's shape.
      auto sum_and_update = [&](const auto& update) {
        if constexpr (columns_kept && rows == 1) {
          // One row (a bias at batch 1): the row is the gradient, never stored.
          simd::fused_loop<V::size>(columns, [&](std::size_t i, auto step, auto) {
            using U = std::conditional_t<decltype(step)::value == 1, T, V>;
            const U g = F::template value<a, U>(c, 0, i);
            simd::store(p + i, static_cast<U>(update(g, simd::output_at<T, U>{p + i, 0, i})));
          });
        } else {
          pass(out, std::false_type{}, identity);
          simd::fused_loop<V::size>(Out::size, [&](std::size_t j, auto step, auto) {
            using U = std::conditional_t<decltype(step)::value == 1, T, V>;
            simd::store(p + j,
                        static_cast<U>(update(simd::load<U>(out + j), simd::output_at<T, U>{p + j, 0, j})));
          });
        }
      };
      constexpr auto index = static_cast<std::size_t>(param);
      if constexpr (Ctx::update_type::plain_capable) {
        // A small model's plain SGD step (optim/trainer.hpp): one flag tested.
        if (c.update->plain) {
          sum_and_update(c.update->template plain_epilogue<index>(value));
          return;
        }
      }
      sum_and_update(c.update->template epilogue<index>(value));
    } else if constexpr (!is_lse) {
      pass(out, std::bool_constant<is_max>{}, identity);
    } else {
      // logsumexp = m + log(sum(exp(a - m))), m the maximum: exp never overflows.
      pass(out, std::true_type{}, identity);
      constexpr bool keeps_softmax = softmax_read<typename Sched::nodes, N>;
      T* const softmax = Sched::template scratch<static_cast<std::size_t>(I)>(c);
      T* const sums = softmax + softmax_bytes<typename Sched::nodes, N, T> / sizeof(T);
      pass(sums, std::false_type{}, [&](auto v, std::size_t at, std::size_t i, std::size_t row) {
        using U = decltype(v);
        // simd::exp: a masked logit (-inf) is in its range.
        U e;
        if constexpr (columns_kept)
          e = U(simd::exp(v - simd::load<U>(out + at + i)));
        else
          e = U(simd::exp(v - U(out[at])));
        if constexpr (keeps_softmax) simd::store(softmax + row * columns + i, e);
        return e;
      });
      for (std::size_t j = 0; j < Out::size; ++j) out[j] += std::log(sums[j]);
      if constexpr (keeps_softmax) {
        // exp(a - m) / sum: one division per sum, a multiplication per element.
        for (std::size_t j = 0; j < Out::size; ++j) sums[j] = T(1) / sums[j];
        for (std::size_t row = 0; row < rows; ++row) {
          const std::size_t at = flat ? 0 : map::row_offset(row);
          T* const line = softmax + row * columns;
          simd::fused_loop<V::size>(columns, [&](std::size_t i, auto step, auto) {
            using U = std::conditional_t<decltype(step)::value == 1, T, V>;
            const U scale = columns_kept ? simd::load<U>(sums + at + i) : U(sums[at]);
            simd::store(line + i, static_cast<U>(simd::load<U>(line + i) * scale));
          });
        }
      }
    }
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <class Kind, class In, class Out>
struct op_family<reduce_op<Kind, In, Out>> {
  using type = reduce_family;
};

// softmax_of_logsumexp(a, logsumexp(a)): the values the reduction's kernel
// keeps, read where they lie. Of anything else, exp(a - l) in a loop.
struct softmax_of_logsumexp_family : kernel_family_defaults {
  static constexpr bool view = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return static_cast<const typename Sched::value_type*>(Sched::template scratch<operand_index<Sched, J, 1>>(c));
  }
};
template <class A, class In, class Out>
struct kernel_family_of<node<softmax_of_logsumexp_op, A, node<reduce_op<logsumexp_reduction, In, Out>, A>>> {
  using type = softmax_of_logsumexp_family;
};

}  // namespace tapeless::detail
