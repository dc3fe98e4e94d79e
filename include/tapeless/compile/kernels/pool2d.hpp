#pragma once
// Pooling (expr/pool2d.hpp) and its backward passes, running the kernels of
// simd/pool2d.hpp.
//
// Max pooling's argmax: the forward kernel writes one int32 index per output
// into its scratch, and that scratch lives as long as the pooled result
// (scratch_lives_with_result), up to the backward kernel, which reads the
// pooling node as an operand and scatters the adjoint through the indices.
// Why not a second node: the indices come out of the same pass as the
// maxima, so one kernel writes both; a node of its own would need either a
// second pass over the input or a kernel writing two buffers. Why not
// recompute them in the backward pass: that needs the input kept until then
// (a ReLU before the pooling would have to be stored), costs kernel^2 reads
// per output instead of one, and may pick another element at a tie than the
// forward pass did. In a forward-only program the indices are written and
// never read: 4 bytes per output, no extra pass.
//
// A pooling of a convolution's epilogue loop (bias, batch norm, activation)
// runs inside the convolution's kernel, image by image (pool_image,
// compile/plan.hpp's pooled_by), on each image while it is in cache, split
// between threads as the convolution's images are; in a forward-only
// program the pooled input is then never stored.

#include <cstddef>
#include <cstdint>

#include <tapeless/compile/kernels/conv2d.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/pool2d.hpp>
#include <tapeless/simd/pool2d.hpp>

namespace tapeless::detail {

template <class Window, class X>
inline constexpr simd::pool2d_shape pool2d_geometry{.batch = X::dims[0],
                                                    .channels = X::dims[1],
                                                    .height = X::dims[2],
                                                    .width = X::dims[3],
                                                    .kernel = Window::kernel,
                                                    .stride = Window::stride,
                                                    .padding = Window::padding};

// One image of a pooling's geometry.
template <class Window, class X>
inline constexpr simd::pool2d_shape pool2d_image_geometry = [] {
  simd::pool2d_shape s = pool2d_geometry<Window, X>;
  s.batch = 1;
  return s;
}();

struct max_pool2d_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;
  // The argmax indices, read by the backward kernel.
  static constexpr bool scratch_lives_with_result = true;

  template <class N, class T>
  static constexpr std::size_t scratch_bytes() {
    return shape_of<N>::size * sizeof(std::int32_t);
  }

  template <class Sched, class N, class Ctx>
  static std::int32_t* indices(const Ctx& c) noexcept {
    return reinterpret_cast<std::int32_t*>(Sched::template scratch<N>(c));
  }

  template <class Sched, int I, class N, class Ctx>
  static void run(const Ctx& c) noexcept {
    using X = shape_of<operand_type<N, 0>>;
    simd::max_pool2d<pool2d_geometry<typename N::operation::window, X>, typename Sched::arch>(
        operand_pointer<Sched, N, 0>(c), Sched::template destination<N>(c), indices<Sched, N>(c));
  }

  // Image n of its operand, handed over by the kernel that computes it
  // (compile/kernels/conv2d.hpp); the indices are per plane, as run()'s.
  static constexpr bool pools_by_image = true;
  template <class Sched, class N, class Ctx, class T>
  [[gnu::always_inline]] static void pool_image(const Ctx& c, const T* image, std::size_t n) noexcept {
    constexpr simd::pool2d_shape S = pool2d_image_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>;
    simd::max_pool2d<S, typename Sched::arch>(image, Sched::template destination<N>(c) + n * S.output_size(),
                                              indices<Sched, N>(c) + n * S.output_size());
  }
};

// Operands: the adjoint of the pooled result, and the max_pool2d node.
struct max_pool2d_backward_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class N, class Ctx>
  static void run(const Ctx& c) noexcept {
    using Pool = operand_type<N, 1>;
    simd::max_pool2d_backward<pool2d_geometry<typename N::operation::window, typename N::operation::input_shape>,
                              typename Sched::arch>(operand_pointer<Sched, N, 0>(c),
                                                    max_pool2d_family::indices<Sched, Pool>(c),
                                                    Sched::template destination<N>(c));
  }
};

struct avg_pool2d_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class N, class Ctx>
  static void run(const Ctx& c) noexcept {
    using X = shape_of<operand_type<N, 0>>;
    simd::avg_pool2d<pool2d_geometry<typename N::operation::window, X>, typename Sched::arch>(
        operand_pointer<Sched, N, 0>(c), Sched::template destination<N>(c));
  }

  // Image n of its operand, handed over by the kernel that computes it.
  static constexpr bool pools_by_image = true;
  template <class Sched, class N, class Ctx, class T>
  [[gnu::always_inline]] static void pool_image(const Ctx& c, const T* image, std::size_t n) noexcept {
    constexpr simd::pool2d_shape S = pool2d_image_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>;
    simd::avg_pool2d<S, typename Sched::arch>(image, Sched::template destination<N>(c) + n * S.output_size());
  }
};

struct avg_pool2d_backward_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class N, class Ctx>
  static void run(const Ctx& c) noexcept {
    simd::avg_pool2d_backward<pool2d_geometry<typename N::operation::window, typename N::operation::input_shape>,
                              typename Sched::arch>(operand_pointer<Sched, N, 0>(c), Sched::template destination<N>(c));
  }
};

template <class Window>
struct op_family<max_pool2d_op<Window>> {
  using type = max_pool2d_family;
};
template <class Window, class In>
struct op_family<max_pool2d_backward_op<Window, In>> {
  using type = max_pool2d_backward_family;
};
template <class Window>
struct op_family<avg_pool2d_op<Window>> {
  using type = avg_pool2d_family;
};
template <class Window, class In>
struct op_family<avg_pool2d_backward_op<Window, In>> {
  using type = avg_pool2d_backward_family;
};

}  // namespace tapeless::detail
