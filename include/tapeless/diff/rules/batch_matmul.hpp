#pragma once
// Vector-Jacobian products of batch_matmul and batch_transpose: those of
// matmul and transpose, entry by entry of the batch.

#include <cstddef>

#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/batch_matmul.hpp>

namespace tapeless::detail {

// C_b = A_b B_b: A gets G_b B_b^T, B gets A_b^T G_b.
template <std::size_t Bt, std::size_t M, std::size_t K, std::size_t N>
struct vjp_rule<batch_matmul_op<Bt, M, K, N>> {
  template <std::size_t I, class A, class B, class G>
  static constexpr auto partial(node<batch_matmul_op<Bt, M, K, N>, A, B>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else if constexpr (I == 0)
      return node<batch_matmul_op<Bt, M, N, K>, decltype(detail::as_shape<shape<Bt, M, N>>(g)),
                  decltype(tapeless::batch_transpose(detail::as_shape<shape<Bt, K, N>>(B{})))>{};
    else
      return node<batch_matmul_op<Bt, K, M, N>,
                  decltype(tapeless::batch_transpose(detail::as_shape<shape<Bt, M, K>>(A{}))),
                  decltype(detail::as_shape<shape<Bt, M, N>>(g))>{};
  }
};

// d batch_transpose(a) = batch_transpose(da)
template <std::size_t Bt, std::size_t R, std::size_t C>
struct vjp_rule<batch_transpose_op<Bt, R, C>> {
  template <std::size_t I, class A, class G>
  static constexpr auto partial(node<batch_transpose_op<Bt, R, C>, A>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return tapeless::batch_transpose(detail::as_shape<shape<Bt, C, R>>(g));
  }
};

}  // namespace tapeless::detail
