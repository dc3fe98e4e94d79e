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
// On a pool's threads (program.use_threads) a large pooling, and its
// backward pass, split the batch into equal static shares (pool2d_shares).
// A pooling of a convolution's epilogue loop (bias, batch norm, activation)
// runs inside the convolution's kernel, image by image (pool_image,
// compile/plan.hpp's pooled_by), on each image while it is in cache, split
// between threads as the convolution's images are; in a forward-only
// program the pooled input is then never stored. A pooling's backward pass
// runs its consumer's loop the same way (pool2d_backward_family).

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <tapeless/compile/kernels/conv2d.hpp>
#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/expr/pool2d.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
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

// A pooling's input elements per share of its batch, at least: a share
// then reads 128 KiB or more, some microseconds of work against the pool's
// fork and join.
inline constexpr std::size_t min_pool_elements_per_share = std::size_t{1} << 15;

// The batch of a pooling of shape S in `count` equal shares (a divisor of
// the batch, at most 4), run on the context's threads when it has some; each
// share is pooled plane by plane as the whole batch is (the argmax indices
// are per plane), so the results are one thread's bit for bit.
template <simd::pool2d_shape S>
struct pool2d_shares {
  static constexpr std::size_t count = [] {
    std::size_t k = std::min({std::size_t{4}, S.batch, S.input_size() / min_pool_elements_per_share});
    while (k > 1 && S.batch % k != 0) --k;
    return k == 0 ? std::size_t{1} : k;
  }();
  // One share's geometry.
  static constexpr simd::pool2d_shape share = [] {
    simd::pool2d_shape s = S;
    s.batch = S.batch / count;
    return s;
  }();

  // Calls pool(k) for every share k.
  template <class Ctx, class Pool>
  TAPELESS_ALWAYS_INLINE static void run(const Ctx& c, Pool&& pool) noexcept {
    over_shares<count>(c, count, [&](std::size_t first, std::size_t last, std::size_t) {
      for (std::size_t k = first; k < last; ++k) pool(k);
    });
  }
};

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

  template <class Sched, std::size_t J, class Ctx>
  static std::int32_t* indices(const Ctx& c) noexcept {
    return reinterpret_cast<std::int32_t*>(Sched::template scratch<J>(c));
  }

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using shares = pool2d_shares<pool2d_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>>;
    constexpr simd::pool2d_shape P = shares::share;
    const auto* x = operand_pointer<Sched, I, 0>(c);
    auto* y = Sched::template destination<I>(c);
    std::int32_t* at = indices<Sched, I>(c);
    shares::run(c, [&](std::size_t k) {
      simd::max_pool2d<P, typename Sched::arch>(x + k * P.input_size(), y + k * P.output_size(),
                                                at + k * P.output_size());
    });
  }

  // Image n of its operand, handed over by the kernel that computes it
  // (compile/kernels/conv2d.hpp); the indices are per plane, as run()'s.
  static constexpr bool pools_by_image = true;
  template <class Sched, std::size_t J, class Ctx, class T>
  TAPELESS_ALWAYS_INLINE static void pool_image(const Ctx& c, const T* image, std::size_t n) noexcept {
    using N = typename Sched::template node_at<J>;
    constexpr simd::pool2d_shape S = pool2d_image_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>;
    simd::max_pool2d<S, typename Sched::arch>(image, Sched::template destination<J>(c) + n * S.output_size(),
                                              indices<Sched, J>(c) + n * S.output_size());
  }
};

// A pooling's backward pass (Derived: max or average). Its consumer's
// elementwise loop (the derivative of the activation before the pooling)
// runs as its epilogue, image by image: the image's gradient is written into
// the share's scratch and the loop reads it there while it is in cache. The
// gradient itself (for max pooling zeros but one value per window) is never
// stored: it was written whole (6.4 MB for W5's first layer) and read back by
// the loop. Derived::image_gradient<Sched, J>(c, n, image) writes image n's
// (J: the backward node's index).
template <class Derived>
struct pool2d_backward_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;
  static constexpr bool takes_epilogue = true;

  template <class N>
  using shares = pool2d_shares<pool2d_geometry<typename N::operation::window, typename N::operation::input_shape>>;
  template <class N>
  static constexpr simd::pool2d_shape image_geometry =
      pool2d_image_geometry<typename N::operation::window, typename N::operation::input_shape>;

  // One image of the gradient per share, 64-byte aligned: used when the
  // kernel runs its consumer's loop (planned either way).
  template <class N, class T>
  static constexpr std::size_t image_bytes = (image_geometry<N>.input_size() * sizeof(T) + 63) / 64 * 64;
  template <class N, class T>
  static constexpr std::size_t scratch_bytes() {
    return image_bytes<N, T> * shares<N>::count;
  }

  // Image by image in the shares of the batch: each image's gradient written
  // into its place in the node's buffer.
  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    T* const dx = Sched::template destination<I>(c);
    by_image<N>(c, [&](std::size_t n, std::size_t) {
      Derived::template image_gradient<Sched, static_cast<std::size_t>(I)>(c, n,
                                                                           dx + n * image_geometry<N>.input_size());
    });
  }

  // The backward pass at node index B with the loop of root I as its epilogue.
  template <class Sched, int I, int B, class Ctx>
  [[gnu::noinline]] static void run_with_epilogue(const Ctx& c) noexcept {
    using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Back = typename Sched::template node_at<static_cast<std::size_t>(B)>;
    using T = typename Sched::value_type;
    constexpr simd::pool2d_shape P = image_geometry<Back>;
    static_assert(shape_of<Root>::size == P.input_size() * shape_of<Root>::dims[0],
                  "tapeless::compile: a pooling gradient's epilogue runs over the pooling's input shape");
    T* const dst = Sched::template destination<I>(c);
    T* const scratch = Sched::template scratch<B>(c);
    by_image<Back>(c, [&](std::size_t n, std::size_t share) {
      T* image = scratch + share * (image_bytes<Back, T> / sizeof(T));
      Derived::template image_gradient<Sched, static_cast<std::size_t>(B)>(c, n, image);
      epilogue_over_image<Sched, I>(c, n, static_cast<const T*>(image), dst + n * P.input_size());
    });
  }

 private:
  // f(n, share) for every image n of N's batch, in the shares of the batch
  // on the context's threads; every image is computed alone, so the results
  // are one thread's bit for bit.
  template <class N, class Ctx, class F>
  TAPELESS_ALWAYS_INLINE static void by_image(const Ctx& c, F&& f) noexcept {
    by_image_in_shares<shares<N>::count, shape_of<N>::dims[0]>(c, f);
  }
  // The same by counts: a function over N would spell N in its name (family.hpp).
  template <std::size_t Shares, std::size_t Images, class Ctx, class F>
  TAPELESS_ALWAYS_INLINE static void by_image_in_shares(const Ctx& c, F& f) noexcept {
    over_shares<Shares>(c, Images, [&](std::size_t first, std::size_t last, std::size_t share) {
      for (std::size_t n = first; n < last; ++n) f(n, share);
    });
  }
};

// Operands: the adjoint of the pooled result, and the max_pool2d node.
struct max_pool2d_backward_family : pool2d_backward_family<max_pool2d_backward_family> {
  template <class Sched, std::size_t J, class Ctx, class T>
  TAPELESS_ALWAYS_INLINE static void image_gradient(const Ctx& c, std::size_t n, T* image) noexcept {
    constexpr simd::pool2d_shape P = image_geometry<typename Sched::template node_at<J>>;
    simd::max_pool2d_backward<P, typename Sched::arch>(
        operand_pointer<Sched, J, 0>(c) + n * P.output_size(),
        max_pool2d_family::indices<Sched, operand_index<Sched, J, 1>>(c) + n * P.output_size(), image);
  }
};

struct avg_pool2d_family : kernel_family_defaults {
  static constexpr bool writes_output_in_place = true;

  template <class Sched, int I, class Ctx>
  static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using shares = pool2d_shares<pool2d_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>>;
    constexpr simd::pool2d_shape P = shares::share;
    const auto* x = operand_pointer<Sched, I, 0>(c);
    auto* y = Sched::template destination<I>(c);
    shares::run(c, [&](std::size_t k) {
      simd::avg_pool2d<P, typename Sched::arch>(x + k * P.input_size(), y + k * P.output_size());
    });
  }

  // Image n of its operand, handed over by the kernel that computes it.
  static constexpr bool pools_by_image = true;
  template <class Sched, std::size_t J, class Ctx, class T>
  TAPELESS_ALWAYS_INLINE static void pool_image(const Ctx& c, const T* image, std::size_t n) noexcept {
    using N = typename Sched::template node_at<J>;
    constexpr simd::pool2d_shape S = pool2d_image_geometry<typename N::operation::window, shape_of<operand_type<N, 0>>>;
    simd::avg_pool2d<S, typename Sched::arch>(image, Sched::template destination<J>(c) + n * S.output_size());
  }
};

struct avg_pool2d_backward_family : pool2d_backward_family<avg_pool2d_backward_family> {
  template <class Sched, std::size_t J, class Ctx, class T>
  TAPELESS_ALWAYS_INLINE static void image_gradient(const Ctx& c, std::size_t n, T* image) noexcept {
    constexpr simd::pool2d_shape P = image_geometry<typename Sched::template node_at<J>>;
    simd::avg_pool2d_backward<P, typename Sched::arch>(operand_pointer<Sched, J, 0>(c) + n * P.output_size(), image);
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
