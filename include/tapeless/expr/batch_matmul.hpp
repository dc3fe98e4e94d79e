#pragma once
// Batched matrix product and transpose of rank-3 tensors, as torch.bmm and
// x.transpose(1, 2):
//
//   tl::batch_matmul(Q, tl::batch_transpose(K))   // Q [B, M, D], K [B, N, D] -> [B, M, N]
//
// Batch entry b of the result is the product of the operands' entries b. A
// batch_transpose consumed by a batch_matmul is never copied: the compiled
// program reads the operand in place, transposed.
//
// The ops carry their shapes, as matmul's do, so that a node's shape never
// depends on what the simplifier makes of its operands.

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// op(A) [B, M, K] times op(B) [B, K, N], entry by entry.
template <std::size_t Batch, std::size_t M, std::size_t K, std::size_t N>
struct batch_matmul_op {
  static constexpr std::string_view name = "batch_matmul";
  static constexpr std::size_t batch = Batch, rows = M, inner = K, columns = N;
  template <class A, class B>
  struct result_shape {
    using type = shape<Batch, M, N>;
  };
};

// A [Batch, Rows, Columns] read as [Batch, Columns, Rows].
template <std::size_t Batch, std::size_t Rows, std::size_t Columns>
struct batch_transpose_op {
  static constexpr std::string_view name = "batch_transpose";
  static constexpr std::size_t batch = Batch, rows = Rows, columns = Columns;
  template <class A>
  struct result_shape {
    using type = shape<Batch, Columns, Rows>;
  };
};

namespace detail {

// Fails with both shapes in the instantiation context:
// "batch_matmul_shape_mismatch<shape<3, 5, 4>, shape<3, 5, 4>>".
template <class A, class B>
struct batch_matmul_shape_mismatch {
  static_assert(always_false<A, B>,
                "tapeless::batch_matmul: the operands are not [B, M, K] and [B, K, N] (rank 3, the same "
                "batch, inner dimensions equal); see both shapes in batch_matmul_shape_mismatch<left, "
                "right> above (batch_transpose one of them?)");
  static constexpr bool ok = false;
};

template <class A>
struct batch_transpose_needs_rank_3 {
  static_assert(always_false<A>,
                "tapeless::batch_transpose: the operand must have rank 3 ([batch, rows, columns]; "
                "tl::transpose takes rank 2); its shape is in batch_transpose_needs_rank_3<...> above");
  static constexpr bool ok = false;
};

template <class A, class B>
constexpr bool check_batch_matmul() {
  if constexpr (A::rank == 3 && B::rank == 3) {
    if constexpr (A::dims[0] == B::dims[0] && A::dims[2] == B::dims[1]) return true;
    else return batch_matmul_shape_mismatch<A, B>::ok;
  } else
    return batch_matmul_shape_mismatch<A, B>::ok;
}

template <class E>
inline constexpr bool is_batch_matmul = false;
template <std::size_t Bt, std::size_t M, std::size_t K, std::size_t N, class A, class B>
inline constexpr bool is_batch_matmul<node<batch_matmul_op<Bt, M, K, N>, A, B>> = true;

template <class E>
inline constexpr bool is_batch_transpose = false;
template <std::size_t Bt, std::size_t R, std::size_t C, class A>
inline constexpr bool is_batch_transpose<node<batch_transpose_op<Bt, R, C>, A>> = true;

}  // namespace detail

template <expression A, expression B>
constexpr auto batch_matmul(const A& a, const B& b) {
  using SA = shape_of<A>;
  using SB = shape_of<B>;
  if constexpr (detail::check_batch_matmul<SA, SB>())
    return node<batch_matmul_op<SA::dims[0], SA::dims[1], SA::dims[2], SB::dims[2]>, A, B>{a, b};
}

// batch_transpose(batch_transpose(a)) -> a
// batch_transpose(batch_matmul(a, b)) -> batch_matmul(batch_transpose(b), batch_transpose(a)):
// the product's entries then come out of one GEMM each, with no transposed copy.
template <expression A>
constexpr auto batch_transpose(const A& a) {
  using S = shape_of<A>;
  if constexpr (detail::is_batch_transpose<A>)
    return tapeless::operand_at<0>(a);
  else if constexpr (detail::is_batch_matmul<A>)
    return batch_matmul(tapeless::batch_transpose(tapeless::operand_at<1>(a)),
                        tapeless::batch_transpose(tapeless::operand_at<0>(a)));
  else if constexpr (S::rank == 3)
    return node<batch_transpose_op<S::dims[0], S::dims[1], S::dims[2]>, A>{a};
  else
    return detail::batch_transpose_needs_rank_3<S>::ok;
}

}  // namespace tapeless
