#pragma once
// Batch norm folded into the convolution before it, in a forward-only call.
// There batch norm reads its running estimates (kernel_form.hpp's
// forward_form), so with per-channel m, s (the scale gamma / sqrt(var + eps))
// and beta, and the convolution's bias b:
//
//   (conv(x, W) + b - m) * s + beta  =  conv(x, W * s) + ((b - m) * s + beta)
//
// with s read along W's output channels. The convolution's epilogue is then
// an addition (and the activation) where it was four operations per output
// element; the price is one pass over the weights per call, as the program
// cannot know whether they changed since the last one. So the fold is taken
// only where it pays: at least twice as many output elements as weights (a
// CNN at batch 64; not a wide convolution over a small image at batch 1).
//
// A convolution read anywhere else as well (its raw output, or inside the
// statistics) is left as it is: folding it would compute it twice. Every
// per-channel operand qualifies, not only batch norm's, as the identity holds
// for any; the result differs from the unfolded one in the last bits (torch's
// eval() does not fold).

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include <tapeless/core/shape.hpp>
#include <tapeless/core/type_list.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/conv2d.hpp>
#include <tapeless/expr/node.hpp>
#include <tapeless/expr/reshape.hpp>

namespace tapeless::detail {

// How often T occurs in the tree of E: once per path from E's root (capped,
// so a deep, shared graph cannot overflow it). One instantiation per distinct
// subexpression, as templates are memoized: linear in the graph, not the tree.
inline constexpr std::size_t occurrence_cap = std::size_t{1} << 20;
template <class T, class E>
struct occurrences {
  static constexpr std::size_t value = std::is_same_v<T, E>;
};
template <class T, class Op, class... Operands>
struct occurrences<T, node<Op, Operands...>> {
  static constexpr std::size_t value = [] {
    if constexpr (std::is_same_v<T, node<Op, Operands...>>)
      return std::size_t{1};
    else
      return std::min(occurrence_cap, (std::size_t{0} + ... + occurrences<T, Operands>::value));
  }();
};
template <class T, class... Roots>
struct occurrences<T, type_list<Roots...>> {
  static constexpr std::size_t value = std::min(occurrence_cap, (std::size_t{0} + ... + occurrences<T, Roots>::value));
};

// One value per output channel of a convolution with Channels of them, read
// against its output [N, Channels, H, W]: [Channels, 1, 1] or [1, Channels, 1, 1].
template <class P, std::size_t Channels>
inline constexpr bool is_per_channel = [] {
  using S = shape_of<P>;
  if constexpr (S::rank == 3)
    return S::dims[0] == Channels && S::dims[1] == 1 && S::dims[2] == 1;
  else if constexpr (S::rank == 4)
    return S::dims[0] == 1 && S::dims[1] == Channels && S::dims[2] == 1 && S::dims[3] == 1;
  else
    return false;
}();

template <class Roots, class E>
struct fold_batch_norm {
  using type = E;
};
template <class Roots, class E>
using fold_batch_norm_t = typename fold_batch_norm<Roots, E>::type;

// Does the pattern Pattern around convolution Conv (weights W) fold, in the graph of Roots?
template <class Roots, class Pattern, class Conv, class W, class... PerChannel>
inline constexpr bool folds = [] {
  constexpr std::size_t channels = shape_of<W>::dims[0];
  if constexpr (!(is_per_channel<PerChannel, channels> && ...))
    return false;
  else if constexpr (shape_of<Conv>::size < 2 * shape_of<W>::size)
    return false;
  else  // every path to the convolution runs through the pattern
    return occurrences<Conv, Roots>::value == occurrences<Pattern, Roots>::value;
}();

// The folded form: conv(x, W * s) + ((b - m) * s + beta).
template <class Roots, conv_options O, class X, class W, class Shift, class S, class Beta>
struct folded_convolution {
  using scale = node<reshape_op<shape_of<S>, shape<shape_of<W>::dims[0], 1, 1, 1>>, fold_batch_norm_t<Roots, S>>;
  using type = node<add_op, node<conv2d_op<O>, fold_batch_norm_t<Roots, X>, node<mul_op, fold_batch_norm_t<Roots, W>, scale>>,
                    node<add_op, node<mul_op, Shift, fold_batch_norm_t<Roots, S>>, fold_batch_norm_t<Roots, Beta>>>;
};

template <class Roots, class Op, class... Operands>
struct fold_batch_norm<Roots, node<Op, Operands...>> {
  using type = node<Op, fold_batch_norm_t<Roots, Operands>...>;
};
// (conv(x, W) + b - m) * s + beta
template <class Roots, conv_options O, class X, class W, class B, class M, class S, class Beta>
  requires folds<Roots, node<add_op, node<mul_op, node<sub_op, node<add_op, node<conv2d_op<O>, X, W>, B>, M>, S>, Beta>,
                 node<conv2d_op<O>, X, W>, W, B, M, S, Beta>
struct fold_batch_norm<Roots, node<add_op, node<mul_op, node<sub_op, node<add_op, node<conv2d_op<O>, X, W>, B>, M>, S>, Beta>> {
  using type = typename folded_convolution<
      Roots, O, X, W, node<sub_op, fold_batch_norm_t<Roots, B>, fold_batch_norm_t<Roots, M>>, S, Beta>::type;
};
// (conv(x, W) - m) * s + beta: a convolution without a bias
template <class Roots, conv_options O, class X, class W, class M, class S, class Beta>
  requires folds<Roots, node<add_op, node<mul_op, node<sub_op, node<conv2d_op<O>, X, W>, M>, S>, Beta>,
                 node<conv2d_op<O>, X, W>, W, M, S, Beta>
struct fold_batch_norm<Roots, node<add_op, node<mul_op, node<sub_op, node<conv2d_op<O>, X, W>, M>, S>, Beta>> {
  using type = typename folded_convolution<Roots, O, X, W, node<neg_op, fold_batch_norm_t<Roots, M>>, S, Beta>::type;
};

// Each output of a list, folded within the graph of all of them.
template <class List>
struct fold_batch_norms;
template <class... Outputs>
struct fold_batch_norms<type_list<Outputs...>> {
  using type = type_list<fold_batch_norm_t<type_list<Outputs...>, Outputs>...>;
};

}  // namespace tapeless::detail
