#pragma once
// conv2d and its two gradients (expr/conv2d.hpp), one family each, running
// the kernels of simd/conv2d.hpp (im2col into the GEMM tiles or direct loops,
// chosen per shape there). They read their operands where they lie and write
// whole buffers; the kernels need working memory (the unrolled input, a
// padded copy), which the plan places in the arena as each node's scratch.
//
// The kernels stay functions of their own (noinline), as large GEMMs do: a
// convolution is far longer than a call, and inlined into a step its tiles'
// registers would compete with everything around it.
//
// On a pool's threads (program.use_threads), a large convolution splits its
// images between them: the forward pass and the input gradient image by
// image, each share with its own scratch (planned in the arena, whether or
// not the program is ever given threads), so the results are those of one
// thread bit for bit. The weight gradient, a sum over the images, is always
// computed in the same static shares of the batch, each into its own
// partial sum, added in share order at the end: one thread or several, the
// sum is the same.
//
// The forward convolution takes its consumer's elementwise loop as its
// epilogue (the bias, batch norm with running statistics, the activation):
// image by image, the convolution writes one image's output into its scratch
// and the loop runs over it there, while it is in cache, writing the
// consumer's result; the convolution's own output is never stored. Over
// planes, the loop runs on whole planes when its operands
// allow (plane_values, kernels/loop.hpp). A max or average pooling of that
// loop runs there too (run_with_pooled_epilogue, compile/plan.hpp's
// pooled_by), on each image just computed, in the same shares of the images.

#include <algorithm>
#include <cstddef>
#include <tuple>

#include <tapeless/compile/kernels/family.hpp>
#include <tapeless/compile/kernels/loop.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/simd/conv2d.hpp>
#include <tapeless/simd/detail/forced_inlining.hpp>
#include <tapeless/simd/detail/silence_gcc_avx512_warnings.hpp>
#include <tapeless/simd/fused_loop.hpp>
#include <tapeless/simd/lanes.hpp>

namespace tapeless::detail {

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_BEGIN

// The simd layer's description of a convolution: input X [N, C, H, W], weight W [O, C / groups, KH, KW].
template <conv_options O, class X, class W>
inline constexpr simd::conv2d_shape conv2d_geometry{
    .batch = X::dims[0],
    .in_channels = X::dims[1],
    .height = X::dims[2],
    .width = X::dims[3],
    .out_channels = W::dims[0],
    .kernel_height = W::dims[2],
    .kernel_width = W::dims[3],
    .stride = O.stride,
    .padding = O.padding,
    .dilation = O.dilation,
    .groups = O.groups};

// Every convolution family: a kernel of its own with scratch, writing a whole buffer.
struct conv2d_family_base : kernel_family_defaults {
  // Its kernel writes every element of its result: an output that is its only user takes it there.
  static constexpr bool writes_output_in_place = true;

  // The shares a convolution's images are split into: at most 4 (each has
  // its own scratch), at most one per image, each of at least
  // min_work_per_share multiply-adds.
  template <simd::conv2d_shape S>
  static constexpr std::size_t image_shares = std::max<std::size_t>(
      1, std::min({std::size_t{4}, S.batch,
                   S.batch * S.out_channels * S.output_plane() * S.group_depth() / min_work_per_share}));

  // One image of S.
  template <simd::conv2d_shape S>
  static constexpr simd::conv2d_shape one_image = [] {
    simd::conv2d_shape s = S;
    s.batch = 1;
    return s;
  }();
};

// Y = conv(X, W).
struct conv2d_family : conv2d_family_base {
  // Its consumer's loop may run image by image on the output while it is in
  // cache (see the top of this file), and a pooling of that loop's result too.
  static constexpr bool takes_epilogue = true;
  static constexpr bool epilogue_by_image = true;

  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, shape_of<operand_type<N, 0>>, shape_of<operand_type<N, 1>>>;
  // One image of it: the epilogue's unit of work.
  template <class N>
  static constexpr simd::conv2d_shape image_geometry = one_image<geometry<N>>;

  // Per share of the images: the kernel's working memory, then (for the
  // epilogue) one image's output, each 64-byte aligned.
  template <class N, class T, class Arch>
  static constexpr std::size_t kernel_scratch_bytes =
      (simd::conv2d_scratch_bytes<geometry<N>, T, Arch>() + 63) / 64 * 64;
  template <class N, class T, class Arch>
  static constexpr std::size_t share_scratch_bytes =
      kernel_scratch_bytes<N, T, Arch> + (sizeof(T) * (shape_of<N>::size / shape_of<N>::dims[0]) + 63) / 64 * 64;
  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return share_scratch_bytes<N, T, Arch> * image_shares<geometry<N>>;
  }

  template <class Sched, int I, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    simd::conv2d<geometry<N>, typename Sched::arch>(operand_pointer<Sched, I, 0>(c), operand_pointer<Sched, I, 1>(c),
                                                    Sched::template destination<I>(c),
                                                    Sched::template scratch<I>(c));
  }

  // The convolution at node index C with the loop of root I as its epilogue.
  template <class Sched, int I, int C, class Ctx>
  [[gnu::noinline]] static void run_with_epilogue(const Ctx& c) noexcept {
    by_image<Sched, I, C>(c, into_buffer<Sched, I>(c), [](std::size_t, const auto*) noexcept {});
  }

  // The same, then the pooling at node index P of the loop's result image
  // by image, from where the loop just wrote it: its buffer when something
  // else reads it too, else over the convolution's output in the scratch
  // (element by element, in place).
  template <class Sched, int I, int C, int P, class Ctx>
  [[gnu::noinline]] static void run_with_pooled_epilogue(const Ctx& c) noexcept {
    constexpr auto pooling = static_cast<std::size_t>(P);
    auto pool = [&](std::size_t n, const auto* image) noexcept {
      family_of<typename Sched::template node_at<pooling>>::template pool_image<Sched, pooling>(c, image, n);
    };
    if constexpr (Sched::plan.unstored[I])
      by_image<Sched, I, C>(c, [](std::size_t, auto* product) noexcept { return product; }, pool);
    else
      by_image<Sched, I, C>(c, into_buffer<Sched, I>(c), pool);
  }

 private:
  // Where image n of root I's result goes: its place in I's buffer.
  template <class Sched, int I, class Ctx>
  TAPELESS_ALWAYS_INLINE static auto into_buffer(const Ctx& c) noexcept {
    using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    constexpr std::size_t image = shape_of<Root>::size / shape_of<Root>::dims[0];
    auto* const dst = Sched::template destination<I>(c);
    return [dst](std::size_t n, auto*) noexcept { return dst + n * image; };
  }

  // Per image n of the convolution at node index C (in the context's shares
  // of the batch): its output into the share's scratch, then the loop of
  // root I over it, written at where(n, product); then then(n, that).
  template <class Sched, int I, int C, class Ctx, class Where, class Then>
  TAPELESS_ALWAYS_INLINE static void by_image(const Ctx& c, Where&& where, Then&& then) noexcept {
    using Root = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using Conv = typename Sched::template node_at<static_cast<std::size_t>(C)>;
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    using S = shape_of<Root>;
    using X = shape_of<operand_type<Conv, 0>>;
    static_assert(S::rank == 4 && S::size == shape_of<Conv>::size,
                  "tapeless::compile: a convolution's epilogue runs over the convolution's own shape");
    constexpr std::size_t image_input = X::size / X::dims[0];
    const T* x = operand_pointer<Sched, C, 0>(c);
    const T* w = operand_pointer<Sched, C, 1>(c);
    T* const scratch_base = Sched::template scratch<C>(c);
    over_shares<image_shares<geometry<Conv>>>(c, S::dims[0], [&](std::size_t first, std::size_t last,
                                                                         std::size_t share) {
      T* scratch = scratch_base + share * (share_scratch_bytes<Conv, T, Arch> / sizeof(T));
      T* product = scratch + kernel_scratch_bytes<Conv, T, Arch> / sizeof(T);
      for (std::size_t n = first; n < last; ++n) {
        simd::conv2d<image_geometry<Conv>, Arch>(x + n * image_input, w, product, scratch);
        T* out = where(n, product);
        epilogue_over_image<Sched, I>(c, n, static_cast<const T*>(product), out);
        then(n, static_cast<const T*>(out));
      }
    });
  }
};

// dX = conv2d_input_gradient(dY, W).
struct conv2d_input_gradient_family : conv2d_family_base {
  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, typename N::operation::input_shape, shape_of<operand_type<N, 1>>>;

  // Per share of the images, 64-byte aligned.
  template <class N, class T, class Arch>
  static constexpr std::size_t share_scratch_bytes = (simd::conv2d_scratch_bytes<geometry<N>, T, Arch>() + 63) / 64 * 64;
  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return share_scratch_bytes<N, T, Arch> * image_shares<geometry<N>>;
  }

  template <class Sched, int I, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    constexpr simd::conv2d_shape S = geometry<N>;
    const T* dy = operand_pointer<Sched, I, 0>(c);
    const T* w = operand_pointer<Sched, I, 1>(c);
    T* dx = Sched::template destination<I>(c);
    T* const scratch_base = Sched::template scratch<I>(c);
    if constexpr (image_shares<S> == 1) {
      simd::conv2d_input_gradient<S, Arch>(dy, w, dx, scratch_base);
    } else {
      // Image by image: each image's gradient is its own (the whole batch's
      // kernel computes it so too), whichever share it falls in.
      constexpr std::size_t in_image = S.in_channels * S.height * S.width, out_image = S.out_channels * S.output_plane();
      over_shares<image_shares<S>>(c, S.batch, [&](std::size_t first, std::size_t last, std::size_t share) {
        T* scratch = scratch_base + share * (share_scratch_bytes<N, T, Arch> / sizeof(T));
        for (std::size_t n = first; n < last; ++n)
          simd::conv2d_input_gradient<one_image<S>, Arch>(dy + n * out_image, w, dx + n * in_image, scratch);
      });
    }
  }
};

// dW = conv2d_weight_gradient(X, dY).
struct conv2d_weight_gradient_family : conv2d_family_base {
  template <class N>
  static constexpr simd::conv2d_shape geometry =
      conv2d_geometry<N::operation::options, shape_of<operand_type<N, 0>>, typename N::operation::weight_shape>;

  // The static shares of the batch the sum runs in: image_shares, lowered
  // to one that divides the batch (every share the same shape).
  template <simd::conv2d_shape S>
  static constexpr std::size_t sum_shares = [] {
    std::size_t k = image_shares<S>;
    while (S.batch % k != 0) --k;
    return k;
  }();
  template <simd::conv2d_shape S>
  static constexpr simd::conv2d_shape share_geometry = [] {
    simd::conv2d_shape s = S;
    s.batch = S.batch / sum_shares<S>;
    return s;
  }();

  // Per share, 64-byte aligned: the kernel's working memory, then (shares
  // after the first, whose partial sum is the result itself) its partial sum.
  template <class N, class T, class Arch>
  static constexpr std::size_t kernel_scratch_bytes =
      (simd::conv2d_scratch_bytes<share_geometry<geometry<N>>, T, Arch>() + 63) / 64 * 64;
  template <class N, class T, class Arch>
  static constexpr std::size_t share_scratch_bytes =
      kernel_scratch_bytes<N, T, Arch> +
      (sum_shares<geometry<N>> > 1 ? (sizeof(T) * geometry<N>.weight_size() + 63) / 64 * 64 : 0);
  template <class N, class T, class Arch>
  static constexpr std::size_t scratch_bytes() {
    return share_scratch_bytes<N, T, Arch> * sum_shares<geometry<N>>;
  }

  template <class Sched, int I, class Ctx>
  [[gnu::noinline]] static void run(const Ctx& c) noexcept {
    using N = typename Sched::template node_at<static_cast<std::size_t>(I)>;
    using T = typename Sched::value_type;
    using Arch = typename Sched::arch;
    constexpr simd::conv2d_shape S = geometry<N>;
    constexpr std::size_t shares = sum_shares<S>;
    const T* x = operand_pointer<Sched, I, 0>(c);
    const T* dy = operand_pointer<Sched, I, 1>(c);
    T* dw = Sched::template destination<I>(c);
    T* const scratch_base = Sched::template scratch<I>(c);
    if constexpr (shares == 1) {
      simd::conv2d_weight_gradient<S, Arch>(x, dy, dw, scratch_base);
    } else {
      constexpr simd::conv2d_shape part = share_geometry<S>;
      constexpr std::size_t share_elements = share_scratch_bytes<N, T, Arch> / sizeof(T);
      constexpr std::size_t kernel_elements = kernel_scratch_bytes<N, T, Arch> / sizeof(T);
      const auto partial_sum = [&](std::size_t share) {
        return share == 0 ? dw : scratch_base + share * share_elements + kernel_elements;
      };
      // Share s: its images' sum, into its own partial sum (the result itself for share 0).
      over_shares<shares>(c, shares, [&](std::size_t first, std::size_t last, std::size_t) {
        for (std::size_t s = first; s < last; ++s)
          simd::conv2d_weight_gradient<part, Arch>(x + s * part.input_size(), dy + s * part.output_size(),
                                                   partial_sum(s), scratch_base + s * share_elements);
      });
      // Added in share order, however many threads computed them.
      for (std::size_t s = 1; s < shares; ++s) {
        const T* p = partial_sum(s);
        simd::fused_loop<simd::lanes<T, Arch>>(S.weight_size(), [&](std::size_t i, auto step, auto) {
          using V = std::conditional_t<decltype(step)::value == 1, T, batch_of<T, Arch>>;
          simd::store(dw + i, simd::load<V>(dw + i) + simd::load<V>(p + i));
        });
      }
    }
  }
};

TAPELESS_SIMD_SILENCE_GCC_AVX512_WARNINGS_END

template <conv_options O>
struct op_family<conv2d_op<O>> {
  using type = conv2d_family;
};
template <conv_options O, class In>
struct op_family<conv2d_input_gradient_op<O, In>> {
  using type = conv2d_input_gradient_family;
};
template <conv_options O, class Weight>
struct op_family<conv2d_weight_gradient_op<O, Weight>> {
  using type = conv2d_weight_gradient_family;
};

}  // namespace tapeless::detail
