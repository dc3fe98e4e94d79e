#pragma once
// Matrix product and transpose of rank-2 tensors.
//
//   tl::matmul(X, tl::transpose(W))   // X [64, 784], W [256, 784] -> [64, 256]
//
// A transpose consumed by a matmul is never copied: the compiled program reads
// the operand in place, transposed (simd::gemm's op::transpose).
//
// The ops carry their shapes, so that a node's shape never depends on what
// the simplifier makes of its operands (a zero adjoint is a rank-0 constant).

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>

namespace tapeless {

// op(A) [M, K] times op(B) [K, N].
template <std::size_t M, std::size_t K, std::size_t N>
struct matmul_op {
  static constexpr std::string_view name = "matmul";
  template <class A, class B>
  struct result_shape {
    using type = shape<M, N>;
  };
};

// A [Rows, Columns] read as [Columns, Rows].
template <std::size_t Rows, std::size_t Columns>
struct transpose_op {
  static constexpr std::string_view name = "transpose";
  template <class A>
  struct result_shape {
    using type = shape<Columns, Rows>;
  };
};

namespace detail {

// Fails with both shapes in the instantiation context:
// "matmul_shape_mismatch<shape<64, 784>, shape<10, 784>>".
template <class A, class B>
struct matmul_shape_mismatch {
  static_assert(always_false<A, B>,
                "tapeless::matmul: the operands are not [M, K] and [K, N] (rank 2, inner "
                "dimensions equal); see both shapes in matmul_shape_mismatch<left, right> "
                "above (transpose one of them?)");
  static constexpr bool ok = false;
};

template <class A>
struct transpose_needs_rank_2 {
  static_assert(always_false<A>,
                "tapeless::transpose: the operand must have rank 2; its shape is in "
                "transpose_needs_rank_2<...> above");
  static constexpr bool ok = false;
};

template <class A, class B>
constexpr bool check_matmul() {
  if constexpr (A::rank == 2 && B::rank == 2) {
    if constexpr (A::dims[1] == B::dims[0]) return true;
    else return matmul_shape_mismatch<A, B>::ok;
  } else
    return matmul_shape_mismatch<A, B>::ok;
}

template <class E>
inline constexpr bool is_matmul = false;
template <std::size_t M, std::size_t K, std::size_t N, class A, class B>
inline constexpr bool is_matmul<node<matmul_op<M, K, N>, A, B>> = true;

template <class E>
inline constexpr bool is_transpose = false;
template <std::size_t R, std::size_t C, class A>
inline constexpr bool is_transpose<node<transpose_op<R, C>, A>> = true;

}  // namespace detail

template <expression A, expression B>
constexpr auto matmul(const A& a, const B& b) {
  using SA = shape_of<A>;
  using SB = shape_of<B>;
  if constexpr (detail::check_matmul<SA, SB>())
    return node<matmul_op<SA::dims[0], SA::dims[1], SB::dims[1]>, A, B>{a, b};
}


// transpose(transpose(a)) -> a
// transpose(matmul(a, b)) -> matmul(transpose(b), transpose(a)): a weight's
// gradient then comes out of one GEMM in the weight's own layout, with no
// transposed copy.
template <expression A>
constexpr auto transpose(const A& a) {
  using S = shape_of<A>;
  if constexpr (detail::is_transpose<A>)
    return tapeless::operand_at<0>(a);
  else if constexpr (detail::is_matmul<A>)
    return matmul(tapeless::transpose(tapeless::operand_at<1>(a)), tapeless::transpose(tapeless::operand_at<0>(a)));
  else if constexpr (S::rank == 2)
    return node<transpose_op<S::dims[0], S::dims[1]>, A>{a};
  else
    return detail::transpose_needs_rank_2<S>::ok;
}

}  // namespace tapeless
