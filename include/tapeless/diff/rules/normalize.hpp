#pragma once
// Vector-Jacobian products of normalize_last_axis (expr/normalize.hpp): a
// backward node run by its own row kernel (compile/kernels/normalize.hpp).

#include <tapeless/core/rational.hpp>
#include <tapeless/diff/rules/rule.hpp>
#include <tapeless/diff/rules/tensor.hpp>
#include <tapeless/expr/elementary.hpp>
#include <tapeless/expr/normalize.hpp>
#include <tapeless/expr/reduce.hpp>

namespace tapeless::detail {

template <structural_double Eps>
struct vjp_rule<normalize_last_axis_op<Eps>> {
  template <std::size_t I, class X, class G>
  static constexpr auto partial(node<normalize_last_axis_op<Eps>, X>, G g) {
    if constexpr (is_zero<G>)
      return zero_adjoint{};
    else
      return node<normalize_last_axis_backward_op<Eps>, X, decltype(detail::as_shape<shape_of<X>>(g))>{};
  }
};

// The backward node B(x, g) = J(x) g, J = rstd (I - 1 1^T / D - y y^T / D)
// per row: J is symmetric, so B's partial in g given h is B(x, h). Its
// partial in x (a second derivative) is, per row,
//   -(rstd^2 / D) y (<h, g> - sum(g) sum(h) / D - <g, y><h, y> / D)
//   - (rstd / D) (<h, y> B(x, g) + <g, y> B(x, h)),
// built from reductions: second derivatives are rare and stay unfused.
template <structural_double Eps>
struct vjp_rule<normalize_last_axis_backward_op<Eps>> {
  template <std::size_t I, class X, class G, class H>
  static constexpr auto partial(node<normalize_last_axis_backward_op<Eps>, X, G> self, H h) {
    using S = shape_of<X>;
    using Hs = decltype(detail::as_shape<S>(h));
    using backward_of_h = node<normalize_last_axis_backward_op<Eps>, X, Hs>;
    if constexpr (is_zero<H>) {
      return zero_adjoint{};
    } else if constexpr (I == 1) {
      return backward_of_h{};
    } else {
      constexpr std::size_t D = S::dims[S::rank - 1];
      constexpr reciprocal_of<D> over_d{};
      constexpr exact_constant<exact_decimal(Eps)> eps{};
      const auto row_sum = [](auto v) { return detail::reduce_axis<sum_reduction, -1, true>(v); };
      const auto y = node<normalize_last_axis_op<Eps>, X>{};
      const auto centred = make_sub(X{}, make_mul(over_d, row_sum(X{})));
      const auto var = make_mul(over_d, row_sum(make_mul(centred, centred)));
      const auto rstd = make_div(exact<rational{1, 1}>{}, make_node<sqrt_op>(make_add(var, eps)));
      // Two declarations: gy and hy have different types (one auto may deduce only one).
      const auto gy = row_sum(make_mul(G{}, y));
      const auto hy = row_sum(make_mul(Hs{}, y));
      const auto inner = make_sub(make_sub(row_sum(make_mul(Hs{}, G{})),
                                           make_mul(over_d, make_mul(row_sum(G{}), row_sum(Hs{})))),
                                  make_mul(over_d, make_mul(gy, hy)));
      const auto from_rstd = make_mul(make_mul(over_d, make_mul(rstd, rstd)), make_mul(y, inner));
      const auto from_y = make_mul(make_mul(over_d, rstd), make_add(make_mul(hy, self), make_mul(gy, backward_of_h{})));
      return make_neg(make_add(from_rstd, from_y));
    }
  }
};

}  // namespace tapeless::detail
