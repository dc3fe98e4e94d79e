#pragma once
// 2-D pooling, PyTorch's semantics (NCHW, ceil_mode off), and flatten.
//
//   tl::max_pool2d<2>(X)          // window 2, stride 2: [N, C, H, W] -> [N, C, H / 2, W / 2]
//   tl::max_pool2d<3, 2, 1>(X)    // window 3, stride 2, padding 1 (-inf padding, as torch)
//   tl::avg_pool2d<2>(X)          // padding counted in the divisor (count_include_pad, torch's default)
//   tl::global_avg_pool2d(X)      // [N, C, H, W] -> [N, C]: the mean of each plane
//   tl::flatten(X)                // [N, C, H, W] -> [N, C * H * W] (torch.flatten(x, 1))
//
// Max pooling keeps the index of each window's maximum: its kernel writes
// them beside its result, and the backward node (max_pool2d_backward_op,
// whose operands are the adjoint and the pooling node itself) scatters the
// adjoint through them (compile/kernels/pool2d.hpp).

#include <cstddef>
#include <string_view>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/shape.hpp>
#include <tapeless/expr/operand.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/reshape.hpp>

namespace tapeless {

// A window Kernel x Kernel moved by Stride over the input padded by Padding.
template <std::size_t Kernel, std::size_t Stride, std::size_t Padding>
struct pool2d_window {
  static constexpr std::size_t kernel = Kernel, stride = Stride, padding = Padding;
  static constexpr std::size_t out_extent(std::size_t in) { return (in + 2 * Padding - Kernel) / Stride + 1; }
  template <class X>
  using output_shape = shape<X::dims[0], X::dims[1], out_extent(X::dims[2]), out_extent(X::dims[3])>;
};

template <class Window>
struct max_pool2d_op {
  static constexpr std::string_view name = "max_pool2d";
  using window = Window;
  template <class X>
  struct result_shape {
    using type = typename Window::template output_shape<X>;
  };
};

// dL/dX [In] from dL/dY and the max_pool2d node (whose indices it reads).
template <class Window, class In>
struct max_pool2d_backward_op {
  static constexpr std::string_view name = "max_pool2d_backward";
  using window = Window;
  using input_shape = In;
  template <class G, class Pool>
  struct result_shape {
    using type = In;
  };
};

template <class Window>
struct avg_pool2d_op {
  static constexpr std::string_view name = "avg_pool2d";
  using window = Window;
  template <class X>
  struct result_shape {
    using type = typename Window::template output_shape<X>;
  };
};

// dL/dX [In] from dL/dY.
template <class Window, class In>
struct avg_pool2d_backward_op {
  static constexpr std::string_view name = "avg_pool2d_backward";
  using window = Window;
  using input_shape = In;
  template <class G>
  struct result_shape {
    using type = In;
  };
};

namespace detail {

// Fails with the input's shape and the window in the instantiation context:
// "pool2d_window_does_not_fit<shape<8, 3, 2, 7>, 3, 3, 0>".
template <class X, std::size_t Kernel, std::size_t Stride, std::size_t Padding>
struct pool2d_window_does_not_fit {
  static_assert(always_false<X>,
                "tapeless::max_pool2d / avg_pool2d<kernel, stride, padding>: expected an input [N, C, H, W], a "
                "kernel and stride of at least 1, padding at most half the kernel (as torch), and the window "
                "fitting in the padded input; see the input's shape, kernel, stride and padding in "
                "pool2d_window_does_not_fit<...> above");
  static constexpr bool ok = false;
};

template <class X, std::size_t K, std::size_t S, std::size_t P>
constexpr bool check_pool2d() {
  if constexpr (X::rank == 4 && K > 0 && S > 0 && 2 * P <= K) {
    if constexpr (K <= X::dims[2] + 2 * P && K <= X::dims[3] + 2 * P && X::size > 0)
      return true;
    else
      return pool2d_window_does_not_fit<X, K, S, P>::ok;
  } else {
    return pool2d_window_does_not_fit<X, K, S, P>::ok;
  }
}

template <class X>
struct needs_rank_4_nchw {
  static_assert(always_false<X>,
                "tapeless::global_avg_pool2d: expected an input [N, C, H, W]; its shape is in "
                "needs_rank_4_nchw<...> above");
  static constexpr bool ok = false;
};

template <class X>
struct flatten_needs_a_batch_dimension {
  static_assert(always_false<X>,
                "tapeless::flatten: expected an input of rank 2 or more ([N, ...]); its shape is in "
                "flatten_needs_a_batch_dimension<...> above");
  static constexpr bool ok = false;
};

}  // namespace detail

// The maximum of each Kernel x Kernel window (stride Stride, default Kernel; padding with -inf).
template <std::size_t Kernel, std::size_t Stride = Kernel, std::size_t Padding = 0, expression X>
constexpr auto max_pool2d(const X& x) {
  if constexpr (detail::check_pool2d<shape_of<X>, Kernel, Stride, Padding>())
    return node<max_pool2d_op<pool2d_window<Kernel, Stride, Padding>>, X>{x};
}

// The mean of each window, the padding counted in the divisor (torch's count_include_pad).
template <std::size_t Kernel, std::size_t Stride = Kernel, std::size_t Padding = 0, expression X>
constexpr auto avg_pool2d(const X& x) {
  if constexpr (detail::check_pool2d<shape_of<X>, Kernel, Stride, Padding>())
    return node<avg_pool2d_op<pool2d_window<Kernel, Stride, Padding>>, X>{x};
}

// [N, C, H, W] -> [N, C]: the mean of each plane (a sum over the plane, then a free reshape).
template <expression X>
constexpr auto global_avg_pool2d(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank == 4) {
    constexpr std::size_t N = S::dims[0], C = S::dims[1], plane = S::dims[2] * S::dims[3];
    return detail::reshape_to<shape<N, C>>(detail::reciprocal_of<plane>{} *
                                           detail::reduce_to<sum_reduction, shape<N, C, 1, 1>>(x));
  } else {
    return detail::needs_rank_4_nchw<S>::ok;
  }
}

// [N, d1, d2, ...] -> [N, d1 * d2 * ...], as torch.flatten(x, 1): a view, nothing is copied.
template <expression X>
constexpr auto flatten(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank >= 2)
    return detail::reshape_to<shape<S::dims[0], S::size / S::dims[0]>>(x);
  else
    return detail::flatten_needs_a_batch_dimension<S>::ok;
}

}  // namespace tapeless
