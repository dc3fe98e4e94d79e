#pragma once
// matmul_op<M, K, N>: one GEMM (simd/gemm.hpp). An operand that is a transposed
// view is read transposed where it lies. The GEMM may run its consumer's
// elementwise loop as its epilogue (bias, activation, the activation's
// derivative), or, when it computes a parameter's gradient that nothing else
// reads, apply the optimizer's update there (the gradient is never stored).
//
// Large GEMM kernels stay functions of their own (noinline): inlined into a
// caller's larger body, the register allocator of g++ 12 spills the tiles'
// accumulators. Small ones (inlined_into_step) are inlined into the step: at
// batch 1 a layer takes about as long as the call and the context reload.

#include <algorithm>
#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/compile/kernels/shared_epilogue.hpp>
#include <tapeless/compile/packed_weights.hpp>
#include <tapeless/core/thread_pool.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/gemm.hpp>

namespace tapeless::detail {

struct matmul_family : kernel_family_defaults {
  // It reads memory in tiles; a transposed operand is read in place.
  static constexpr bool reads_operands_transposed = true;
  // The product is in registers when the tile is done: an elementwise
  // consumer costs no pass of its own there.
  static constexpr bool takes_epilogue = true;
  // Likewise an optimizer's update of the parameter whose gradient it is.
  static constexpr bool takes_update = true;
  static constexpr bool writes_output_in_place = true;

  // Inlined into the program's step: a product of at most 4096 multiply-adds
  // (a 64x64 layer at batch 1, W1's every GEMM at batch 1) costs about as
  // much as a call, and its few tiles leave registers to spare. With the step
  // flattened (program.hpp), a batch-1 step then calls nothing out of line in
  // any translation unit (bench/checks/batch1_calls.py); W1 at batch 32 and
  // W2 keep their calls (bench/results/batch1.md).
  template <class Mm>
  static constexpr bool inlined_into_step = [] {
    using operands = typename operands_of<Mm>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using B = std::tuple_element_t<1, operands>;
    return shape_of<A>::dims[0] * shape_of<A>::dims[1] * shape_of<B>::dims[1] <= inlined_gemm_bound;
  }();

  // The GEMM of the matmul node at index M into out, with an optional epilogue.
  template <class Sched, std::size_t M, class T, class Ctx, class... Epilogue>
  TAPELESS_ALWAYS_INLINE static void gemm(const Ctx& c, T* out, Epilogue&&... epilogue) noexcept {
    using Mm = typename Sched::template node_at<M>;
    using operands = typename operands_of<Mm>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using B = std::tuple_element_t<1, operands>;
    static_assert(!family_of<A>::in_register && !family_of<B>::in_register,
                  "tapeless::compile: a matmul operand simplified to a constant");
    // op(A) [m, k] times op(B) [k, n]: the operand nodes have those shapes
    // (a transposed view's shape is its operand's, transposed).
    constexpr std::size_t m = shape_of<A>::dims[0], k = shape_of<A>::dims[1], n = shape_of<B>::dims[1];
    constexpr auto op_a = Sched::template is_transpose_view<A> ? simd::op::transpose : simd::op::none;
    constexpr auto op_b = Sched::template is_transpose_view<B> ? simd::op::transpose : simd::op::none;
    using arch = typename Sched::arch;
    const T* a = Sched::template pointer<operand_index<Sched, M, 0>>(c);
    // b is not read where W^T is packed.
    [[maybe_unused]] const T* b = Sched::template pointer<operand_index<Sched, M, 1>>(c);
    if constexpr (requires { c.packed_weights; } && packed_weights<Sched>::template packs<Mm>) {
      // W^T from the program's copy (compile/packed_weights.hpp), by broadcast-and-FMA.
      simd::gemm_inlined<m, k, n, op_a, simd::op::none, arch>(
          a, packed_weights<Sched>::template copy_of<M>(c.packed_weights), out, epilogue...);
    } else if constexpr (inlined_into_step<Mm>) {
      simd::gemm_inlined<m, k, n, op_a, op_b, arch>(a, b, out, epilogue...);
    } else {
      constexpr std::size_t shares = std::min(simd::gemm_shares<m, k, n, op_a, op_b, arch, T>,
                                              m * k * n / min_work_per_share);
      if constexpr (shares > 1) {
        if (c.threads != nullptr && c.threads->size() > 1) {
          shared_gemm<m, k, n, op_a, op_b, arch, shares>(*c.threads, a, b, out, epilogue...);
        } else {
          // One share of one: the function the threads run, not simd::gemm
          // beside it (the same instructions; a second copy of a large GEMM
          // was a tenth of a CNN's compilation). Only the bounds of the loop
          // over column blocks are read at run time.
          simd::gemm_share<m, k, n, op_a, op_b, arch>(a, b, out, one_epilogue(epilogue...), 0, 1);
        }
      } else {
        simd::gemm<m, k, n, op_a, op_b, arch>(a, b, out, epilogue...);
      }
    }
  }

  // The epilogue given, or the plain store.
  static constexpr simd::epilogue::store one_epilogue() noexcept { return {}; }
  template <class Epilogue>
  static constexpr const Epilogue& one_epilogue(const Epilogue& epilogue) noexcept {
    return epilogue;
  }

  // The GEMM in shares over a pool's threads (each share a run of whole
  // column blocks: simd::gemm_share), as many as the pool has threads, at
  // most Shares.
  template <std::size_t M, std::size_t K, std::size_t N, simd::op OpA, simd::op OpB, class Arch, std::size_t Shares,
            class T, class Epilogue = simd::epilogue::store>
  [[gnu::noinline]] static void shared_gemm(thread_pool& pool, const T* a, const T* b, T* out,
                                            Epilogue epilogue = {}) noexcept {
    const std::size_t parts = std::min(Shares, pool.size());
    auto share = [&](std::size_t part, std::size_t) noexcept {
      if (part < parts) simd::gemm_share<M, K, N, OpA, OpB, Arch>(a, b, out, epilogue, part, parts);
    };
    pool.run(share);
  }

  template <class Sched, int I, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run(const Ctx& c) noexcept {
    if constexpr (inlined_into_step<typename Sched::template node_at<static_cast<std::size_t>(I)>>)
      run_here<Sched, I>(c);
    else
      run_outlined<Sched, I>(c);
  }

  // The GEMM at node index P with the loop of root I as its epilogue.
  template <class Sched, int I, int P, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run_with_epilogue(const Ctx& c) noexcept {
    if constexpr (inlined_into_step<typename Sched::template node_at<static_cast<std::size_t>(P)>>)
      run_with_epilogue_here<Sched, I, P>(c);
    else
      run_with_epilogue_outlined<Sched, I, P>(c);
  }

 private:
  template <class Sched, int I, class Ctx>
  [[gnu::noinline]] static void run_outlined(const Ctx& c) noexcept {
    run_here<Sched, I>(c);
  }
  template <class Sched, int I, int P, class Ctx>
  [[gnu::noinline]] static void run_with_epilogue_outlined(const Ctx& c) noexcept {
    run_with_epilogue_here<Sched, I, P>(c);
  }

  template <class Sched, int I, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run_here(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    constexpr int param = Sched::template gradient_of<I>;
    if constexpr (param >= 0 && Sched::template update_fusable<I, param> &&
                  Ctx::update_type::template fuses<static_cast<std::size_t>(param)>) {
      // C is the parameter's value; the update turns the gradient into the new value.
      auto& value = Sched::template parameter_value<static_cast<std::size_t>(param)>(c);
      if constexpr (Ctx::update_type::plain_capable && outer_product_update<Sched, N>) {
        // A small model's plain SGD step (optim/trainer.hpp): one flag tested.
        if (c.update->plain) {
          updated_as_outer_product<Sched, I>(
              c, value.data(), c.update->template plain_epilogue<static_cast<std::size_t>(param)>(value));
          return;
        }
      }
      const auto update = c.update->template epilogue<static_cast<std::size_t>(param)>(value);
      if (!updated_as_outer_product<Sched, I>(c, value.data(), update)) gemm<Sched, I>(c, value.data(), update);
    } else {
      gemm<Sched, I>(c, Sched::template destination<I>(c));
    }
  }

  // A weight's gradient at batch 1 is one outer product, op(A) [m, 1] times
  // op(B) [1, n] (dY^T x). When the update is linear in it, p + f g (plain
  // SGD: f = -lr; Update::linear_factor), f goes into B once and each vector
  // of the weight takes one FMA, p + a_i (f b), where the GEMM and its
  // epilogue take a multiply and an FMA: W1's step at batch 1 runs 96
  // multiplies fewer (bench/results/batch1.md). A [m, 1] and B [1, n] lie in
  // memory as vectors whichever way they are read. Returns false, having
  // written nothing, where that does not apply.
  template <class Sched, class Gradient>
  static constexpr bool outer_product_update = [] {
    using operands = typename operands_of<Gradient>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using B = std::tuple_element_t<1, operands>;
    constexpr std::size_t m = shape_of<A>::dims[0], k = shape_of<A>::dims[1], n = shape_of<B>::dims[1];
    using V = xsimd::batch<typename Sched::value_type, typename Sched::arch>;
    return k == 1 && n % V::size == 0 && m * n <= inlined_gemm_bound;
  }();

  template <class Sched, int I, class Ctx, class T, class Update>
  TAPELESS_ALWAYS_INLINE static bool updated_as_outer_product(const Ctx& c, T* w, const Update& update) noexcept {
    using Gradient = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using operands = typename operands_of<Gradient>::type::template apply<std::tuple>;
    using A = std::tuple_element_t<0, operands>;
    using B = std::tuple_element_t<1, operands>;
    constexpr std::size_t m = shape_of<A>::dims[0], n = shape_of<B>::dims[1];
    using arch = typename Sched::arch;
    using V = xsimd::batch<T, arch>;
    if constexpr (outer_product_update<Sched, Gradient> && requires { update.linear_factor(); }) {
      const T* factor = update.linear_factor();
      if (factor == nullptr) return false;
      const V f(*factor);
      const T* a = Sched::template pointer<operand_index<Sched, static_cast<std::size_t>(I), 0>>(c);
      const T* b = Sched::template pointer<operand_index<Sched, static_cast<std::size_t>(I), 1>>(c);
      // f b a few vectors at a time, held in registers for every row (the
      // weight does not alias B, but the compiler cannot know it and would
      // load B again per row), and a_i broadcast straight from memory. With
      // f a_i per row (a scalar multiply and a register broadcast) and B
      // loaded per row, this update was 454 of W1's 1291 instructions per
      // step on AVX-512; 347 now (bench/results/batch1.md, round 7).
      constexpr std::size_t vectors = n / V::size;
      constexpr std::size_t held = vectors % 4 == 0 ? 4 : vectors % 3 == 0 ? 3 : vectors % 2 == 0 ? 2 : 1;
      for (std::size_t j0 = 0; j0 < n; j0 += held * V::size) {
        V scaled_b[held];
        for (std::size_t v = 0; v < held; ++v) scaled_b[v] = f * V::load_unaligned(b + j0 + v * V::size);
        // Unrolled: each row is a handful of instructions, and the loop's own
        // counting and branching was a tenth of W1's training step on AVX2.
#pragma GCC unroll 8
        for (std::size_t i = 0; i < m; ++i) {
          const V ai(a[i]);
          T* row = w + i * n + j0;
          for (std::size_t v = 0; v < held; ++v)
            xsimd::fma(ai, scaled_b[v], V::load_unaligned(row + v * V::size)).store_unaligned(row + v * V::size);
        }
      }
      return true;
    } else {
      return false;
    }
  }

  // The GEMM at node index P with the loop of root I as its epilogue.
  template <class Sched, int I, int P, class Ctx>
  TAPELESS_ALWAYS_INLINE static void run_with_epilogue_here(const Ctx& c) noexcept {
    using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    T* out = Sched::template destination<I>(c);
    // Named by what it computes where it can be (shared_epilogue.hpp), so
    // that programs computing the same layer share its GEMM.
    using loop = fused_values<Sched, Ctx, I, shape_of<Root>, false>;
    if constexpr (epilogue_form<loop, Root>::canonical)
      gemm<Sched, static_cast<std::size_t>(P)>(c, out, make_shared_epilogue<loop, static_cast<std::size_t>(I)>(c));
    else
      gemm<Sched, static_cast<std::size_t>(P)>(c, out, loop_epilogue<Sched, I, Ctx>{c});
  }

 private:
  // The loop of the root at node index I, as a GEMM's epilogue, where it has
  // no canonical form (shared_epilogue.hpp: it reads the context inside the
  // loop, as dropout does). A class named by the schedule and the index, not
  // a lambda: every function of the GEMM is a template over its epilogue,
  // and a lambda's name would spell out the root's and the product's whole
  // expressions in each of their symbol names (compile/schedule_key.hpp).
  template <class Sched, int I, class Ctx>
  struct loop_epilogue {
    const Ctx& c;
    template <class V, class At>
    TAPELESS_ALWAYS_INLINE V operator()(const V& product, const At& at) const noexcept {
      using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
      return fused_values<Sched, Ctx, I, shape_of<Root>, false>::template value<static_cast<std::size_t>(I), V>(
          c, at.row, at.col, product);
    }
  };
};

template <std::size_t M, std::size_t K, std::size_t N>
struct op_family<matmul_op<M, K, N>> {
  using type = matmul_family;
};

}  // namespace tapeless::detail
