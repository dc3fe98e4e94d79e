#pragma once
// The loop every elementwise kernel runs: a fused tree of nodes computed per
// element over a shape S, on simd::fused_loop (a SIMD body over the last
// dimension, a scalar tail). Families that host such a loop (elementwise,
// output, reductions, a GEMM's epilogue) compute their values through
// fused_values; a node computed inside the loop gives its value through its
// family's loop_value, any other is loaded from memory.
//
// A loop runs over S as rows x columns (columns = S's last dimension); an
// operand read from memory whose shape broadcasts to S is addressed with
// stride 0 along its broadcast dimensions. When every operand has S's element
// count or a single element, the loop is flat: one row of S::size columns.

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

// How an operand of shape L is addressed in a loop over shape S (L
// broadcasts to S): its stride along each dimension of S, 0 where it repeats.
template <class L, class S>
struct operand_map {
  static constexpr std::size_t rank = S::rank;
  static constexpr std::array<std::size_t, rank> stride = [] {
    std::array<std::size_t, rank> s{};
    std::size_t step = 1;
    for (std::size_t i = 0; i < L::rank; ++i) {  // from the right
      const std::size_t l = L::dims[L::rank - 1 - i];
      if (l != 1) s[rank - 1 - i] = step;
      step *= l;
    }
    return s;
  }();
  static constexpr std::size_t columns = rank == 0 ? 1 : S::dims[rank - 1];
  // Consecutive columns are consecutive elements (else the column repeats).
  static constexpr bool contiguous = rank > 0 && stride[rank - 1] == 1 && columns > 1;

  static constexpr bool leading_zero = [] {
    for (std::size_t d = 0; d + 1 < rank; ++d)
      if (stride[d] != 0) return false;
    return true;
  }();
  // Row r starts at r * row_stride when the leading dimensions are laid out
  // as in S (the common case: same shape, or a column broadcast).
  static constexpr bool linear_rows = [] {
    if (rank < 2) return true;
    for (std::size_t d = 0; d + 2 < rank; ++d)
      if (stride[d] != stride[d + 1] * S::dims[d + 1]) return false;
    return true;
  }();

  static constexpr std::size_t row_offset(std::size_t row) noexcept {
    if constexpr (rank < 2 || leading_zero)
      return 0;
    else if constexpr (linear_rows)
      return row * stride[rank - 2];
    else {
      std::size_t offset = 0;
      for (std::size_t d = rank - 1; d-- > 0;) {
        offset += (row % S::dims[d]) * stride[d];
        row /= S::dims[d];
      }
      return offset;
    }
  }
};

// rows x columns of a loop over S (flat: one row).
template <class S, bool Flat>
inline constexpr std::size_t loop_columns = Flat ? S::size : (S::rank == 0 ? 1 : S::dims[S::rank - 1]);
template <class S, bool Flat>
inline constexpr std::size_t loop_rows = S::size / loop_columns<S, Flat>;

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// The value of the node at index J at (row, col) of loop F (fused_values or
// plane_values below), as V (a batch or a scalar), as F::value<J, V> gives
// it. An object, not a function template over N: its functions are then
// named by N's index, not by N's whole expression (compile/schedule_key.hpp
// says what long symbol names cost).
template <class F, std::size_t J, class V>
struct loop_value_at {
  using N = typename F::sched::template node_at<J>;
  TAPELESS_ALWAYS_INLINE V operator()(const typename F::context& c, std::size_t row, std::size_t col,
                                      const V& product = V{}) const noexcept {
    if constexpr (F::template is_product<N>)
      return product;
    else if constexpr (family_of<N>::in_register)
      return V(family_of<N>::template constant_value<N, typename F::T>(c));
    else if constexpr (F::template in_loop<N>)
      return family_of<N>::template loop_value<F, J, V>(c, row, col, product);
    else
      return F::template load<J, V>(c, row, col);
  }
};

// The values of the tree the kernel at node index Kernel computes, in a loop
// over S.
template <class Sched, class Ctx, int Kernel, class S, bool Flat>
struct fused_values {
  using sched = Sched;
  using context = Ctx;
  using T = typename Sched::value_type;
  static constexpr auto& plan = Sched::plan;
  static constexpr std::size_t columns = loop_columns<S, Flat>;

  template <class N>
  static constexpr bool in_loop = plan.owner[Sched::template index<N>] == Kernel &&
                                  (family_of<N>::fuses_into_consumer || family_of<N>::output);

  // The node whose kernel runs this loop as its epilogue: its value is the
  // result that kernel hands over in registers.
  template <class N>
  static constexpr bool is_product = plan.owner[Sched::template index<N>] == Kernel &&
                                     family_of<N>::takes_epilogue;

  // May the loop over S be flat for every operand of this tree?
  template <class N>
  static constexpr bool flat_ok() {
    if constexpr (family_of<N>::in_register)
      return true;
    else if constexpr (is_product<N>)
      return false;
    else if constexpr (in_loop<N>) {
      if constexpr (!family_of<N>::flat_loop_ok)
        return false;
      else
        return []<class... Os>(type_list<Os...>) {
          return (flat_ok<Os>() && ...);
        }(typename operands_of<N>::type{});
    } else
      return shape_of<N>::size == S::size || shape_of<N>::size == 1;
  }

  // The value of node J at (row, col) of the loop, as V (a batch or a
  // scalar): value<J, V>(c, row, col[, product]).
  template <std::size_t J, class V>
  static constexpr loop_value_at<fused_values, J, V> value{};

  // The node at index J read from its buffer, broadcast to S.
  template <std::size_t J, class V>
  TAPELESS_ALWAYS_INLINE static V load(const Ctx& c, std::size_t row, std::size_t col) noexcept {
    using N = typename Sched::template node_at<J>;
    const auto* base = Sched::template pointer<J>(c);
    static_assert(std::is_floating_point_v<std::remove_cvref_t<decltype(*base)>>,
                  "tapeless::compile: an integer input (class labels) can only be read by "
                  "gather, one_hot or cross_entropy, not by arithmetic");
    if constexpr (Flat) {
      if constexpr (shape_of<N>::size == 1)
        return V(static_cast<T>(*base));
      else
        return simd::load<V>(base + col);
    } else {
      using map = operand_map<shape_of<N>, S>;
      const auto* at = base + map::row_offset(row);
      if constexpr (map::contiguous)
        return simd::load<V>(at + col);
      else if constexpr (S::rank > 0 && map::stride[S::rank - 1] == 0)
        return V(static_cast<T>(*at));
      else
        return V(static_cast<T>(*(at + col)));  // a single column
    }
  }
};

// The values of a loop over S [..., H, W] (rank 3 or more) run as
// [..., H * W], so that a row is a whole plane: an image's 196 or 784
// elements instead of rows of 14 or 28, which leave AVX-512 (16 floats) all
// scalar tails. The position (row, col) of the merged loop has the same flat
// index as in S (row * H * W + col), and an operand read from memory is
// addressed through its own shape merged the same way; that needs every such
// operand to be either whole planes along (H, W) or constant along both (a
// bias or a batch norm statistic per channel, [C, 1, 1]), and no node in the
// loop to read its position otherwise than by flat index (flat_loop_ok).
// plane_values<...>::mergeable<Root>() says whether a tree qualifies.

// L (broadcasting to S [..., H, W], rank 3 or more) with its last two
// dimensions merged as S's are ([..., H * W]); void when they cannot be (L
// varies along one of H, W only).
template <class L, class S, class = std::make_index_sequence<S::rank - 2>>
struct merged_operand_shape;
template <class L, class S, std::size_t... I>
struct merged_operand_shape<L, S, std::index_sequence<I...>> {
  static constexpr std::size_t h = dim_from_right<L>(1), w = dim_from_right<L>(0);
  static constexpr bool per_plane = h == 1 && w == 1;
  static constexpr bool whole_planes = h == S::dims[S::rank - 2] && w == S::dims[S::rank - 1];
  using type = std::conditional_t<per_plane || whole_planes, shape<dim_from_right<L>(S::rank - 1 - I)..., h * w>, void>;
};

// The values of the tree the kernel at node index Kernel computes, over S
// [..., H, W] run as [..., H * W].
template <class Sched, class Ctx, int Kernel, class S>
struct plane_values {
  using sched = Sched;
  using context = Ctx;
  using T = typename Sched::value_type;
  using merged = typename merged_operand_shape<S, S>::type;
  static constexpr auto& plan = Sched::plan;
  static constexpr std::size_t columns = S::dims[S::rank - 2] * S::dims[S::rank - 1];

  template <class N>
  static constexpr bool in_loop = plan.owner[Sched::template index<N>] == Kernel &&
                                  (family_of<N>::fuses_into_consumer || family_of<N>::output);
  template <class N>
  static constexpr bool is_product = plan.owner[Sched::template index<N>] == Kernel &&
                                     family_of<N>::takes_epilogue;

  // May the tree rooted at N run over merged planes? (S of rank 3 or more.)
  template <class N>
  static constexpr bool mergeable() {
    if constexpr (family_of<N>::in_register || is_product<N>)
      return true;
    else if constexpr (in_loop<N>) {
      if constexpr (!family_of<N>::flat_loop_ok)
        return false;
      else
        return []<class... Os>(type_list<Os...>) {
          return (mergeable<Os>() && ...);
        }(typename operands_of<N>::type{});
    } else
      return !std::is_void_v<typename merged_operand_shape<shape_of<N>, S>::type>;
  }

  // As in fused_values: value<J, V>(c, row, col[, product]).
  template <std::size_t J, class V>
  static constexpr loop_value_at<plane_values, J, V> value{};

  template <std::size_t J, class V>
  TAPELESS_ALWAYS_INLINE static V load(const Ctx& c, std::size_t row, std::size_t col) noexcept {
    using N = typename Sched::template node_at<J>;
    const auto* base = Sched::template pointer<J>(c);
    static_assert(std::is_floating_point_v<std::remove_cvref_t<decltype(*base)>>,
                  "tapeless::compile: an integer input (class labels) can only be read by "
                  "gather, one_hot or cross_entropy, not by arithmetic");
    using map = operand_map<typename merged_operand_shape<shape_of<N>, S>::type, merged>;
    const auto* at = base + map::row_offset(row);
    if constexpr (map::contiguous)
      return simd::load<V>(at + col);
    else if constexpr (map::stride[merged::rank - 1] == 0)
      return V(static_cast<T>(*at));
    else
      return V(static_cast<T>(*(at + col)));  // planes of one element
  }
};

template <class Sched, class Ctx, int Kernel, class S, class Root>
inline constexpr bool loop_is_flat = fused_values<Sched, Ctx, Kernel, S, false>::template flat_ok<Root>();

template <class T, class Arch>
using batch_of = xsimd::batch<T, Arch>;

template <class Sched, class Ctx, int Kernel, class S, class Root>
inline constexpr bool loop_over_planes = [] {
  if constexpr (S::rank >= 3)
    return plane_values<Sched, Ctx, Kernel, S>::template mergeable<Root>();
  else
    return false;
}();

// Rows [row0, row0 + rows) of loop F whose root is node R, the product read
// from `product`.
template <class F, std::size_t R, class T, class Arch, class Ctx>
TAPELESS_ALWAYS_INLINE inline void loop_rows_over_product(const Ctx& c, std::size_t row0, std::size_t rows,
                                                          const T* product, T* out) noexcept {
  constexpr std::size_t columns = F::columns, w = simd::lanes<T, Arch>;
  for (std::size_t r = 0; r < rows; ++r)
    simd::fused_loop<w>(columns, [&](std::size_t i, auto step, auto) {
      using V = std::conditional_t<decltype(step)::value == 1, T, batch_of<T, Arch>>;
      const std::size_t at = r * columns + i;
      simd::store(out + at, F::template value<R, V>(c, row0 + r, i, simd::load<V>(product + at)));
    });
}

// Image n of the loop of root I [N, C, H, W], run as the epilogue of the
// kernel that computes its product image by image (a convolution, a
// pooling's backward pass): the product's image read from `product`, the
// loop's written to `out`; over whole planes when the loop's operands allow,
// else row by row.
template <class Sched, int I, class Ctx, class T>
TAPELESS_ALWAYS_INLINE inline void epilogue_over_image(const Ctx& c, std::size_t n, const T* product, T* out) noexcept {
  using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
  using S = shape_of<Root>;
  using Arch = typename Sched::arch;
  constexpr auto root = static_cast<std::size_t>(I);
  static_assert(S::rank == 4, "tapeless::compile: an epilogue run image by image is over [N, C, H, W]");
  if constexpr (plane_values<Sched, Ctx, I, S>::template mergeable<Root>())
    loop_rows_over_product<plane_values<Sched, Ctx, I, S>, root, T, Arch>(c, n * S::dims[1], S::dims[1], product,
                                                                          out);
  else
    loop_rows_over_product<fused_values<Sched, Ctx, I, S, false>, root, T, Arch>(
        c, n * S::dims[1] * S::dims[2], S::dims[1] * S::dims[2], product, out);
}

// The items of loop F (whose columns are F::columns) over root R a share
// computes: its rows, or (one row: a flat loop) whole batches of its columns,
// the tail with the last batch.
template <class F, class Sched, std::size_t R>
inline constexpr std::size_t loop_items = [] {
  constexpr std::size_t columns = F::columns, rows = shape_of<typename Sched::template node_at<R>>::size / columns;
  return rows == 1 ? columns / simd::lanes<typename Sched::value_type, typename Sched::arch> : rows;
}();

// Items [first, last) of loop F, root R's values into its destination.
template <class F, class Sched, std::size_t R, class Ctx>
TAPELESS_ALWAYS_INLINE inline void run_loop_rows(const Ctx& c, std::size_t first = 0,
                                                 std::size_t last = loop_items<F, Sched, R>) noexcept {
  using T = typename Sched::value_type;
  constexpr std::size_t columns = F::columns, rows = shape_of<typename Sched::template node_at<R>>::size / columns;
  constexpr std::size_t w = simd::lanes<T, typename Sched::arch>;
  T* dst = Sched::template destination<R>(c);
  auto run_columns = [&](std::size_t row, std::size_t from, std::size_t to) TAPELESS_ALWAYS_INLINE_LAMBDA {
    T* out = dst + row * columns + from;
    simd::fused_loop<w>(to - from, [&](std::size_t i, auto step, auto) {
      using V = std::conditional_t<decltype(step)::value == 1, T, batch_of<T, typename Sched::arch>>;
      simd::store(out + i, F::template value<R, V>(c, row, from + i));
    });
  };
  if constexpr (rows == 1)
    run_columns(0, first * w, last == loop_items<F, Sched, R> ? columns : last * w);
  else
    for (std::size_t row = first; row < last; ++row) run_columns(row, 0, columns);
}

// The loop in shares on the context's threads when it is long.
template <class F, class Sched, std::size_t R, class Ctx>
TAPELESS_ALWAYS_INLINE inline void run_loop_shared(const Ctx& c) noexcept {
  constexpr std::size_t shares = loop_shares<shape_of<typename Sched::template node_at<R>>::size>;
  over_shares<shares>(c, loop_items<F, Sched, R>,
                      // The attribute before the body, with no noexcept after it:
                      // the one spelling g++ 12 and clang 14 both read.
                      [&](std::size_t first, std::size_t last, std::size_t) TAPELESS_FLATTEN_LAMBDA {
                        run_loop_rows<F, Sched, R>(c, first, last);
                      });
}

// The kernel of an elementwise loop: root Kernel, computed over its own
// shape (flat when it can be, else over merged planes when it can be, else
// row by row), split between a pool's threads when it is long.
template <class Sched, int Kernel, class Ctx>
TAPELESS_FLATTEN inline void run_elementwise_loop(const Ctx& c) noexcept {
  constexpr auto root = static_cast<std::size_t>(Kernel);
  using Root = typename Sched::template node_at<root>;
  using S = shape_of<Root>;
  constexpr bool flat = loop_is_flat<Sched, Ctx, Kernel, S, Root>;
  if constexpr (flat)
    run_loop_shared<fused_values<Sched, Ctx, Kernel, S, true>, Sched, root>(c);
  else if constexpr (loop_over_planes<Sched, Ctx, Kernel, S, Root>)
    run_loop_shared<plane_values<Sched, Ctx, Kernel, S>, Sched, root>(c);
  else
    run_loop_shared<fused_values<Sched, Ctx, Kernel, S, false>, Sched, root>(c);
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::detail
