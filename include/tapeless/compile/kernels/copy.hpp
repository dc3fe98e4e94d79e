#pragma once
// slice, pad and concat: a loop over the dimensions before the axis, copying
// whole runs (the axis and everything after it are contiguous).

#include <algorithm>
#include <cstddef>
#include <tuple>

#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/xsimd.hpp>

namespace tapeless::detail {

// Whether runs of Run elements are moved inline, by at most 32 batches
// written out (a loop of stores g++ turns back into the call): short runs of
// float or double of at least a batch. There a call of the C library's
// memmove or memset per run costs more than the copy (a recurrent layer's
// step slices and pads 64 rows of 128 to 384 floats several times: memmove
// and memset were a seventh of an LSTM-128 training step).
template <std::size_t Run, class Arch, class T>
inline constexpr bool inline_runs = std::is_floating_point_v<T> && Run >= xsimd::batch<T, Arch>::size &&
                                    Run <= 32 * xsimd::batch<T, Arch>::size;

// dst[0 .. Run) = src[0 .. Run) (distinct buffers): whole batches, then one
// last batch ending at Run, overlapping the one before.
template <std::size_t Run, class Arch, class T>
TAPELESS_ALWAYS_INLINE inline void copy_run(const T* src, T* dst) noexcept {
  if constexpr (inline_runs<Run, Arch, T>) {
    using batch = xsimd::batch<T, Arch>;
    constexpr std::size_t w = batch::size;
    [&]<std::size_t... B>(std::index_sequence<B...>) {
      (batch::load_unaligned(src + B * w).store_unaligned(dst + B * w), ...);
    }(std::make_index_sequence<Run / w>{});
    if constexpr (Run % w != 0) batch::load_unaligned(src + Run - w).store_unaligned(dst + Run - w);
  } else {
    std::copy_n(src, Run, dst);
  }
}

// dst[0 .. Run) = 0, as copy_run.
template <std::size_t Run, class Arch, class T>
TAPELESS_ALWAYS_INLINE inline void zero_run(T* dst) noexcept {
  if constexpr (inline_runs<Run, Arch, T>) {
    using batch = xsimd::batch<T, Arch>;
    constexpr std::size_t w = batch::size;
    const batch zero(T(0));
    [&]<std::size_t... B>(std::index_sequence<B...>) {
      (zero.store_unaligned(dst + B * w), ...);
    }(std::make_index_sequence<Run / w>{});
    if constexpr (Run % w != 0) zero.store_unaligned(dst + Run - w);
  } else {
    std::fill_n(dst, Run, T(0));
  }
}

struct copy_family : kernel_family_defaults {
  // Runs of memory moved as they are: nothing to compute per element.
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    using S = shape_of<N>;
    using split = axis_split<S, Op::axis>;
    using operands = typename operands_of<N>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using arch = typename Sched::arch;
    auto* out = Sched::template destination<I>(c);
    const auto* a = Sched::template pointer<operand_index<Sched, I, 0>>(c);
    constexpr std::size_t out_run = S::dims[Op::axis] * split::inner;
    constexpr std::size_t a_run = shape_of<A>::dims[Op::axis] * split::inner;
    if constexpr (requires { typename Op::input_shape; }) {  // slice: a's rows are longer
      for (std::size_t o = 0; o < split::outer; ++o)
        copy_run<out_run, arch>(a + o * a_run + Op::begin * split::inner, out + o * out_run);
    } else if constexpr (std::tuple_size_v<operands> == 1) {  // pad: zeros around a
      for (std::size_t o = 0; o < split::outer; ++o) {
        auto* row = out + o * out_run;
        zero_run<Op::begin * split::inner, arch>(row);
        copy_run<a_run, arch>(a + o * a_run, row + Op::begin * split::inner);
        zero_run<out_run - Op::begin * split::inner - a_run, arch>(row + Op::begin * split::inner + a_run);
      }
    } else {  // concat: a's run, then b's
      using B = std::tuple_element_t<1, operands>;
      const auto* b = Sched::template pointer<operand_index<Sched, I, 1>>(c);
      constexpr std::size_t b_run = shape_of<B>::dims[Op::axis] * split::inner;
      for (std::size_t o = 0; o < split::outer; ++o) {
        copy_run<a_run, arch>(a + o * a_run, out + o * out_run);
        copy_run<b_run, arch>(b + o * b_run, out + o * out_run + a_run);
      }
    }
  }
};

template <class In, std::size_t Axis, std::size_t Begin, std::size_t End>
struct op_family<slice_op<In, Axis, Begin, End>> {
  using type = copy_family;
};

// A slice whose elements lie together (every dimension before its axis is 1:
// a batch-1 layer's gate out of [1, 4H], a carry's half) is a view: read
// where it lies, no copy. A streamed LSTM read its gates and carry through
// ten such copies per sample, each a store and a load on the step's path.
struct slice_view_family : kernel_family_defaults {
  static constexpr bool view = true;
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<J>;
    using Op = typename N::operation;
    return view_pointer<Sched, J>(c) + Op::begin * axis_split<typename Op::input_shape, Op::axis>::inner;
  }
};

template <class In, std::size_t Axis, std::size_t Begin, std::size_t End, class A>
  requires(axis_split<In, Axis>::outer == 1 && !family_of<A>::in_register)
struct kernel_family_of<node<slice_op<In, Axis, Begin, End>, A>> {
  using type = slice_view_family;
};
template <class Full, std::size_t Axis, std::size_t Begin>
struct op_family<pad_op<Full, Axis, Begin>> {
  using type = copy_family;
};
template <class SA, class SB, std::size_t Axis>
struct op_family<concat_op<SA, SB, Axis>> {
  using type = copy_family;
};

}  // namespace tapeless::detail
