#pragma once
// The kernels a compiled program runs, one per root of its plan: a fused
// elementwise loop, a reduction (with its operand's elementwise tree fused in),
// a GEMM, a gather, a transpose copy. Every loop is simd::fused_loop: a SIMD
// body over the last dimension, a scalar tail.
//
// A loop runs over a shape S as rows x columns (columns = S's last dimension);
// an operand read from memory whose shape broadcasts to S is addressed with
// stride 0 along its broadcast dimensions. When every operand has S's element
// count or a single element, the loop is flat: one row of S::size columns.

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include <tapeless/compile/detail/simd_apply.hpp>
#include <tapeless/compile/plan.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/detail/xsimd.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/gemm.hpp>
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

// What a kernel reads: its schedule (plan, node list), the program (constants,
// result), the parameter store, the bindings, and the arena.
// A step's parameter update, when it runs inside the weight-gradient GEMMs
// (tl::compile(loss, rule)): none by default.
struct no_fused_update {
  template <std::size_t Param>
  static constexpr bool fuses = false;
};

template <class Schedule, class Owner, class Params, class Bindings, class Update = no_fused_update>
struct run_context {
  using program = Schedule;
  using value_type = typename Schedule::value_type;
  using update_type = Update;
  Owner& self;
  bool training;  // dropout draws its masks (program.step), else is the identity
  Params& params;
  const Bindings& bindings;
  std::byte* arena;
  Update* update = nullptr;
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// Lane indices 0, 1, ..., W - 1 as a batch of T.
template <class V>
[[gnu::always_inline]] inline V lane_indices() noexcept {
  using T = typename V::value_type;
  alignas(64) T lanes[V::size];
  for (std::size_t l = 0; l < V::size; ++l) lanes[l] = static_cast<T>(l);
  return V::load_aligned(lanes);
}

// Dropout's mask at flat positions index, index + 1, ...: 0 or 1 / (1 - P).
template <class Op, class V>
[[gnu::always_inline]] inline V dropout_mask(std::uint64_t seed, std::uint64_t step, std::size_t index) noexcept {
  using T = typename decltype([] {
    if constexpr (simd::batch_value<V>)
      return std::type_identity<typename V::value_type>{};
    else
      return std::type_identity<V>{};
  }())::type;
  constexpr T scale = static_cast<T>(1.0 / (1.0 - Op::probability));
  if constexpr (simd::batch_value<V>) {
    alignas(64) T lanes[V::size];
    for (std::size_t l = 0; l < V::size; ++l) lanes[l] = Op::keeps(seed, step, index + l) ? scale : T(0);
    return V::load_aligned(lanes);
  } else {
    return Op::keeps(seed, step, index) ? scale : T(0);
  }
}

// A loop over shape S computing the fused tree rooted at Kernel.
template <class Ctx, int Kernel, class S, bool Flat>
struct fused {
  using P = typename Ctx::program;
  using T = typename Ctx::value_type;
  static constexpr auto& plan = P::plan;

  template <class N>
  static constexpr bool in_loop = plan.owner[P::template index<N>] == Kernel &&
                                  kind_of<N>() != node_kind::reduce;

  static constexpr std::size_t columns = Flat ? S::size : (S::rank == 0 ? 1 : S::dims[S::rank - 1]);

  // The matmul whose epilogue this loop is, if any: its value is the product
  // the GEMM hands over.
  template <class N>
  static constexpr bool is_product = in_loop<N> && kind_of<N>() == node_kind::matmul;

  // Is the loop over S allowed to be flat for every operand of this tree?
  template <class N>
  static constexpr bool flat_ok() {
    if constexpr (kind_of<N>() == node_kind::constant)
      return true;
    else if constexpr (is_product<N>)
      return false;
    else if constexpr (in_loop<N>) {
      if constexpr (kind_of<N>() == node_kind::one_hot)
        return false;
      else
        return []<class... Os>(type_list<Os...>) {
          return (flat_ok<Os>() && ...);
        }(typename operands_of<N>::type{});
    } else
      return shape_of<N>::size == S::size || shape_of<N>::size == 1;
  }

  // The value of N at (row, col) of the loop, as V (a batch or a scalar).
  template <class N, class V>
  [[gnu::always_inline]] static V value(const Ctx& c, std::size_t row, std::size_t col,
                                        const V& product = V{}) noexcept {
    if constexpr (is_product<N>) {
      return product;
    } else if constexpr (kind_of<N>() == node_kind::constant) {
      return V(P::template constant_value<N>(c.self));
    } else if constexpr (in_loop<N> && kind_of<N>() == node_kind::one_hot) {
      // one_hot [B, C] in a loop over its own shape: row b, columns col...
      const auto* labels = P::template pointer<typename front<typename operands_of<N>::type>::type>(c);
      const T label = static_cast<T>(labels[row]);
      if constexpr (simd::batch_value<V>)
        return xsimd::select(lane_indices<V>() + V(static_cast<T>(col)) == V(label), V(1), V(0));
      else
        return static_cast<T>(col) == label ? T(1) : T(0);
    } else if constexpr (in_loop<N> && kind_of<N>() == node_kind::dropout) {
      using Op = typename N::operation;
      using A = typename front<typename operands_of<N>::type>::type;
      const V a = value<A, V>(c, row, col, product);
      if (!c.training) return a;
      return a * dropout_mask<Op, V>(c.self.random_seed, c.self.steps_taken, row * columns + col);
    } else if constexpr (in_loop<N>) {
      using Op = typename N::operation;
      return [&]<class... Os>(type_list<Os...>) {
        return apply_op<Op, V>(operand_value<Op, Os, V>(c, row, col, product)...);
      }(typename operands_of<N>::type{});
    } else {
      return load<N, V>(c, row, col);
    }
  }

  // An operand as the op takes it: exact exponents of pow stay types.
  template <class Op, class O, class V>
  [[gnu::always_inline]] static auto operand_value(const Ctx& c, std::size_t row, std::size_t col,
                                                   const V& product) noexcept {
    if constexpr (requires { Op::takes_exact_operands; } && is_exact<O>)
      return O{};
    else
      return value<O, V>(c, row, col, product);
  }

  // N read from its buffer, broadcast to S.
  template <class N, class V>
  [[gnu::always_inline]] static V load(const Ctx& c, std::size_t row, std::size_t col) noexcept {
    const auto* base = P::template pointer<N>(c);
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

template <class Ctx, int Kernel, class S, class Root>
constexpr bool loop_is_flat() {
  using F = fused<Ctx, Kernel, S, false>;
  return F::template flat_ok<Root>();
}

// rows x columns of a loop over S (flat: one row).
template <class S, bool Flat>
inline constexpr std::size_t loop_columns = Flat ? S::size : (S::rank == 0 ? 1 : S::dims[S::rank - 1]);
template <class S, bool Flat>
inline constexpr std::size_t loop_rows = S::size / loop_columns<S, Flat>;

template <class T, class Arch>
using batch_of = xsimd::batch<T, Arch>;

// Kernel: an elementwise root, computed over its own shape into dst.
template <class Ctx, int Kernel, class Root>
[[gnu::flatten]] inline void run_elementwise(const Ctx& c) noexcept {
  using T = typename Ctx::value_type;
  using S = shape_of<Root>;
  constexpr bool flat = loop_is_flat<Ctx, Kernel, S, Root>();
  using F = fused<Ctx, Kernel, S, flat>;
  using P = typename Ctx::program;
  T* dst = P::template destination<Root>(c);
  constexpr std::size_t columns = loop_columns<S, flat>, rows = loop_rows<S, flat>;
  constexpr std::size_t w = simd::lanes<T, typename P::arch>;
  for (std::size_t row = 0; row < rows; ++row) {
    T* out = dst + row * columns;
    simd::fused_loop<w>(columns, [&](std::size_t i, auto step, auto) {
      using V = std::conditional_t<decltype(step)::value == 1, T, batch_of<T, typename P::arch>>;
      simd::store(out + i, F::template value<Root, V>(c, row, i));
    });
  }
}

// Kernel: reduce_op<Kind, In, Out>; the operand's tree is fused into the loop
// over In. Out's element for a loop position is found with Out's strides
// over In (0 along the reduced dimensions).
template <class Ctx, int Kernel, class Root>
[[gnu::flatten]] inline void run_reduce(const Ctx& c) noexcept {
  using T = typename Ctx::value_type;
  using P = typename Ctx::program;
  using Op = typename Root::operation;
  using In = typename Op::input_shape;
  using Out = shape_of<Root>;
  using A = typename front<typename operands_of<Root>::type>::type;
  using Kind = typename Op::kind;
  constexpr bool flat = Out::size == 1 && loop_is_flat<Ctx, Kernel, In, A>();
  using F = fused<Ctx, Kernel, In, flat>;
  using map = operand_map<Out, In>;
  using arch = typename P::arch;
  using V = batch_of<T, arch>;
  constexpr std::size_t w = V::size;
  constexpr std::size_t columns = loop_columns<In, flat>, rows = loop_rows<In, flat>;
  constexpr bool columns_kept = !flat && map::contiguous;  // else each row folds to one element
  T* out = P::template destination<Root>(c);

  constexpr bool is_max = std::is_same_v<Kind, max_reduction>;
  constexpr bool is_lse = std::is_same_v<Kind, logsumexp_reduction>;
  constexpr T lowest = -std::numeric_limits<T>::infinity();

  // One pass: acc[out(row, col)] (+ or max)= f(value(row, col)).
  auto pass = [&](T* acc, auto take_max_constant, auto f) {
    constexpr bool take_max = decltype(take_max_constant)::value;
    const T start = take_max ? lowest : T(0);
    // a + b, or the larger of a and b with a NaN in either winning (as in
    // torch.max; the max instructions return their second operand then).
    auto combine = [](auto a, auto b) {
      if constexpr (!take_max)
        return a + b;
      else if constexpr (simd::batch_value<decltype(a)>)
        return xsimd::select(b > a || b != b, b, a);
      else
        return (b > a || b != b) ? b : a;
    };
    for (std::size_t j = 0; j < Out::size; ++j) acc[j] = start;
    for (std::size_t row = 0; row < rows; ++row) {
      const std::size_t at = flat ? 0 : map::row_offset(row);
      if constexpr (columns_kept) {
        simd::fused_loop<w>(columns, [&](std::size_t i, auto step, auto) {
          using U = std::conditional_t<decltype(step)::value == 1, T, V>;
          const U v = f(F::template value<A, U>(c, row, i), at, i);
          simd::store(acc + at + i, combine(simd::load<U>(acc + at + i), v));
        });
      } else {
        // Several independent chains: one would wait out the latency of
        // each add before the next (about 4 cycles a batch, where the loads
        // and the fused tree take one or two).
        constexpr std::size_t chains = 4;
        V chain[chains] = {V(start), V(start), V(start), V(start)};
        T tail = start;
        simd::fused_loop<w, chains>(columns, [&](std::size_t i, auto step, auto slot) {
          using U = std::conditional_t<decltype(step)::value == 1, T, V>;
          const U v = f(F::template value<A, U>(c, row, i), at, i);
          if constexpr (simd::batch_value<U>) {
            V& link = chain[decltype(slot)::value];
            link = combine(link, v);
          } else {
            tail = combine(tail, v);
          }
        });
        const V joined = combine(combine(chain[0], chain[1]), combine(chain[2], chain[3]));
        alignas(64) T lanes[w];
        joined.store_aligned(lanes);
        T folded = tail;
        for (std::size_t l = 0; l < w; ++l) folded = combine(folded, lanes[l]);
        acc[at] = combine(acc[at], folded);
      }
    }
  };
  auto identity = [](auto v, std::size_t, std::size_t) { return v; };

  if constexpr (!is_lse) {
    pass(out, std::bool_constant<is_max>{}, identity);
  } else {
    // logsumexp = m + log(sum(exp(a - m))), m the maximum: exp never overflows.
    pass(out, std::true_type{}, identity);
    T* sums = P::template scratch<Root>(c);
    pass(sums, std::false_type{}, [&](auto v, std::size_t at, std::size_t i) {
      using U = decltype(v);
      using std::exp;
      if constexpr (columns_kept)
        return U(exp(v - simd::load<U>(out + at + i)));
      else
        return U(exp(v - U(out[at])));
    });
    for (std::size_t j = 0; j < Out::size; ++j) out[j] += std::log(sums[j]);
  }
}

template <class Op>
struct matmul_dims;
template <std::size_t M, std::size_t K, std::size_t N>
struct matmul_dims<matmul_op<M, K, N>> {
  static constexpr std::size_t m = M, k = K, n = N;
};

// Kernel: matmul_op<M, K, N>; an operand that is a transpose view is read
// transposed where it lies.
// GEMM kernels stay functions of their own: inlined into a caller's larger
// body, the register allocator of g++ 12 spills the tiles' accumulators.
template <class Ctx, int Kernel, class Root>
[[gnu::noinline]] void run_matmul(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using Op = typename Root::operation;
  using A = typename front<typename operands_of<Root>::type>::type;
  using Bn = std::tuple_element_t<1, typename operands_of<Root>::type::template apply<std::tuple>>;
  using dims = matmul_dims<Op>;
  constexpr auto op_a = P::template is_transpose_view<A> ? simd::op::transpose : simd::op::none;
  constexpr auto op_b = P::template is_transpose_view<Bn> ? simd::op::transpose : simd::op::none;
  simd::gemm<dims::m, dims::k, dims::n, op_a, op_b, typename P::arch>(
      P::template matmul_operand<A>(c), P::template matmul_operand<Bn>(c),
                               P::template destination<Root>(c));
}

// Kernel: the GEMM of matmul Mm with the loop of root Root as its epilogue.
template <class Ctx, int Kernel, class Root, class Mm>
[[gnu::noinline]] void run_matmul_epilogue(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using T = typename Ctx::value_type;
  using A = typename front<typename operands_of<Mm>::type>::type;
  using Bn = std::tuple_element_t<1, typename operands_of<Mm>::type::template apply<std::tuple>>;
  using dims = matmul_dims<typename Mm::operation>;
  using F = fused<Ctx, Kernel, shape_of<Root>, false>;
  constexpr auto op_a = P::template is_transpose_view<A> ? simd::op::transpose : simd::op::none;
  constexpr auto op_b = P::template is_transpose_view<Bn> ? simd::op::transpose : simd::op::none;
  auto epilogue = [&c](const auto& product, const auto& at) {
    using V = std::remove_cvref_t<decltype(product)>;
    return F::template value<Root, V>(c, at.row, at.col, product);
  };
  T* out = P::template destination<Root>(c);
  simd::gemm<dims::m, dims::k, dims::n, op_a, op_b, typename P::arch>(
      P::template matmul_operand<A>(c), P::template matmul_operand<Bn>(c), out, epilogue);
}

// Kernel: matmul Root computes parameter Param's gradient, and the update
// applies it in the epilogue: C is the parameter's value, the gradient is
// never stored.
template <class Ctx, int Kernel, class Root, std::size_t Param>
[[gnu::noinline]] void run_matmul_update(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using A = typename front<typename operands_of<Root>::type>::type;
  using Bn = std::tuple_element_t<1, typename operands_of<Root>::type::template apply<std::tuple>>;
  using dims = matmul_dims<typename Root::operation>;
  constexpr auto op_a = P::template is_transpose_view<A> ? simd::op::transpose : simd::op::none;
  constexpr auto op_b = P::template is_transpose_view<Bn> ? simd::op::transpose : simd::op::none;
  auto& value = P::template parameter_value<Param>(c);
  simd::gemm<dims::m, dims::k, dims::n, op_a, op_b, typename P::arch>(
      P::template matmul_operand<A>(c), P::template matmul_operand<Bn>(c), value.data(),
      c.update->template epilogue<Param>(value));
}

// Kernel: gather_op<B, C>: out(b) = z(b, labels(b)).
template <class Ctx, int Kernel, class Root>
inline void run_gather(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using Ops = typename operands_of<Root>::type::template apply<std::tuple>;
  using Z = std::tuple_element_t<0, Ops>;
  using L = std::tuple_element_t<1, Ops>;
  constexpr std::size_t rows = shape_of<Z>::dims[0], classes = shape_of<Z>::dims[1];
  const auto* z = P::template pointer<Z>(c);
  const auto* labels = P::template pointer<L>(c);
  auto* out = P::template destination<Root>(c);
  for (std::size_t b = 0; b < rows; ++b) {
    const auto label = static_cast<std::size_t>(labels[b]);
    assert(label < classes && "tapeless: a class label is outside [0, classes)");
    out[b] = label < classes ? z[b * classes + label] : 0;
  }
}

// Kernel: slice, pad or concat: each a loop over the dimensions before the
// axis, copying whole runs (the axis and everything after it is contiguous).
template <class Ctx, int Kernel, class Root>
inline void run_copy(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using Op = typename Root::operation;
  using S = shape_of<Root>;
  using split = axis_split<S, Op::axis>;
  using operands = typename operands_of<Root>::type::template apply<std::tuple>;
  using A = std::tuple_element_t<0, operands>;
  auto* out = P::template destination<Root>(c);
  const auto* a = P::template pointer<A>(c);
  constexpr std::size_t out_run = S::dims[Op::axis] * split::inner;
  constexpr std::size_t a_run = shape_of<A>::dims[Op::axis] * split::inner;
  if constexpr (requires { typename Op::input_shape; }) {  // slice: a's rows are longer
    for (std::size_t o = 0; o < split::outer; ++o)
      std::copy_n(a + o * a_run + Op::begin * split::inner, out_run, out + o * out_run);
  } else if constexpr (std::tuple_size_v<operands> == 1) {  // pad: zeros around a
    for (std::size_t o = 0; o < split::outer; ++o) {
      auto* row = out + o * out_run;
      std::fill_n(row, out_run, 0);
      std::copy_n(a + o * a_run, a_run, row + Op::begin * split::inner);
    }
  } else {  // concat: a's run, then b's
    using B = std::tuple_element_t<1, operands>;
    const auto* b = P::template pointer<B>(c);
    constexpr std::size_t b_run = shape_of<B>::dims[Op::axis] * split::inner;
    for (std::size_t o = 0; o < split::outer; ++o) {
      std::copy_n(a + o * a_run, a_run, out + o * out_run);
      std::copy_n(b + o * b_run, b_run, out + o * out_run + a_run);
    }
  }
}

// Kernel: transpose copy (a transpose read by something other than matmul).
template <class Ctx, int Kernel, class Root>
inline void run_transpose(const Ctx& c) noexcept {
  using P = typename Ctx::program;
  using A = typename front<typename operands_of<Root>::type>::type;
  constexpr std::size_t rows = shape_of<A>::dims[0], columns = shape_of<A>::dims[1];
  const auto* a = P::template pointer<A>(c);
  auto* out = P::template destination<Root>(c);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) out[j * rows + i] = a[i * columns + j];
}

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

}  // namespace tapeless::detail
