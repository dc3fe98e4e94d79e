#pragma once
// batch_matmul_op<B, M, K, N>: one GEMM (simd/gemm.hpp) per batch entry, over
// the entries' slices of the operands' and the result's buffers. An operand
// that is a batch_transpose view is read transposed where it lies.
// batch_transpose_op: read in place by batch_matmul, else copied.

#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/batch_matmul.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/gemm.hpp>

namespace tapeless::detail {

struct batch_matmul_family : kernel_family_defaults {
  // It reads memory in tiles; a transposed operand is read in place.
  static constexpr bool reads_operands_transposed = true;
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    using operands = typename operands_of<N>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using B = std::tuple_element_t<1, operands>;
    static_assert(!family_of<A>::in_register && !family_of<B>::in_register,
                  "tapeless::compile: a batch_matmul operand simplified to a constant");
    constexpr auto op_a = Sched::template is_transpose_view<A> ? simd::op::transpose : simd::op::none;
    constexpr auto op_b = Sched::template is_transpose_view<B> ? simd::op::transpose : simd::op::none;
    gemms<Op::rows, Op::inner, Op::columns, op_a, op_b, typename Sched::arch>(
        Sched::template pointer<operand_index<Sched, I, 0>>(c), Sched::template pointer<operand_index<Sched, I, 1>>(c),
        Sched::template destination<I>(c), Op::batch);
  }

 private:
  // The GEMMs of `entries` batch entries, each over its slices of a, b and
  // out (either operand's entry holds M*K, or K*N, elements, transposed or
  // not). A function of its own: the batch loop around an inlined GEMM keeps
  // the tiles' accumulators in registers (see compile/kernels/matmul.hpp).
  // Named by the entry's shape only, with the number of entries a run-time
  // bound: the programs of one model (training, evaluation, a sampler at
  // batch 1) share one copy per shape, where one per node and program was a
  // sixth of a transformer example's -O0 code (bench/results/compile_cost.md).
  template <std::size_t M, std::size_t K, std::size_t N, simd::op OpA, simd::op OpB, class Arch, class T>
  [[gnu::noinline]] static void gemms(const T* a, const T* b, T* out, std::size_t entries) noexcept {
    for (std::size_t entry = 0; entry < entries; ++entry)
      simd::gemm_inlined<M, K, N, OpA, OpB, Arch>(a + entry * M * K, b + entry * K * N, out + entry * M * N);
  }
};

struct batch_transpose_family : kernel_family_defaults {
  // A batch_matmul reads a transposed operand where it lies: no copy, no buffer.
  static constexpr bool view_when_read_transposed = true;
  // As a copy, it writes a whole buffer of its shape.
  static constexpr bool writes_output_in_place = true;

  // As a view: its operand's buffer.
  template <class Sched, std::size_t J, class Ctx>
  static const auto* pointer(const Ctx& c) noexcept {
    return view_pointer<Sched, J>(c);
  }

  // As a copy: out(e, j, i) = a(e, i, j).
  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Op = typename N::operation;
    constexpr std::size_t rows = Op::rows, columns = Op::columns, entry_size = rows * columns;
    const auto* a = Sched::template pointer<operand_index<Sched, I, 0>>(c);
    auto* out = Sched::template destination<I>(c);
    for (std::size_t e = 0; e < Op::batch; ++e)
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < columns; ++j)
          out[e * entry_size + j * rows + i] = a[e * entry_size + i * columns + j];
  }
};

template <std::size_t Bt, std::size_t M, std::size_t K, std::size_t N>
struct op_family<batch_matmul_op<Bt, M, K, N>> {
  using type = batch_matmul_family;
};

template <std::size_t Bt, std::size_t R, std::size_t C>
struct op_family<batch_transpose_op<Bt, R, C>> {
  using type = batch_transpose_family;
};

}  // namespace tapeless::detail
