#pragma once
// tl::nn::multihead_attention<"attn", Heads>(x): self-attention over a
// sequence, as torch.nn.MultiheadAttention(E, Heads, batch_first=True)
// called as attn(x, x, x): x [N, T, E] gives [N, T, E]. PyTorch's parameter
// names and layouts, so a state_dict moves both ways as safetensors:
//
//   "attn.in_proj_weight" [3E, E]   (queries', keys' and values' projections, stacked)
//   "attn.in_proj_bias"   [3E]
//   "attn.out_proj.weight" [E, E], "attn.out_proj.bias" [E]
//
// Each head h of width D = E / Heads attends with softmax(q k^T / sqrt(D))
// over the keys (a stable softmax: the maximum is subtracted). With
// attention_options{.causal = true} a query sees only itself and the keys
// before it (torch's attn_mask of generate_square_subsequent_mask, is_causal):
// the later keys' scores become -inf, never a whole row of them.
//
//   constexpr auto y = tl::nn::multihead_attention<"attn", 2, tl::nn::attention_options{.causal = true}>(x);
//
// Built from the projections as one GEMM each, a permute that puts the heads
// into the batch ([N, T, 3, H, D] -> [3, N, H, T, D]) and two batch_matmuls
// over N * H entries, so its size in types does not grow with Heads.
// tl::init::xavier_uniform on the store starts in_proj_weight as torch does
// and every bias at zero.

#include <cstddef>

#include <tapeless/core/diagnostics.hpp>
#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/batch_matmul.hpp>
#include <tapeless/expr/causal_mask.hpp>
#include <tapeless/expr/constant.hpp>
#include <tapeless/expr/element_type.hpp>
#include <tapeless/expr/matmul.hpp>
#include <tapeless/expr/permute.hpp>
#include <tapeless/expr/reduce.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/expr/slice.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/nn/batch_norm.hpp>

namespace tapeless::nn {

struct attention_options {
  // Each query attends only to itself and the keys before it.
  bool causal = false;
};

namespace detail {

template <class S>
struct attention_needs_n_t_e {
  static_assert(tapeless::detail::always_false<S>,
                "tapeless::nn::multihead_attention: the input must be [N, T, E] (batch first, rank 3; one "
                "sequence is a batch of 1); its shape is above");
  static constexpr bool ok = false;
};

template <std::size_t E, std::size_t Heads>
struct embedding_not_divisible_by_heads {
  static_assert(tapeless::detail::always_false_value<E, Heads>,
                "tapeless::nn::multihead_attention<name, Heads>: the embedding width E (the input's last "
                "dimension) must be divisible by Heads (each head has width E / Heads, as torch requires); "
                "see embedding_not_divisible_by_heads<E, Heads> above: change Heads or E");
  static constexpr bool ok = false;
};

// 1 / sqrt(D), exact when D is a square, else to 12 decimals.
template <std::size_t D>
constexpr rational inverse_square_root() {
  std::size_t r = 0;
  while ((r + 1) * (r + 1) <= D) ++r;
  if (r * r == D) return rational{1, static_cast<long long>(r)};
  double s = static_cast<double>(D);  // Newton's iteration for sqrt(D)
  for (int i = 0; i < 60; ++i) s = 0.5 * (s + static_cast<double>(D) / s);
  return tapeless::detail::exact_decimal(1.0 / s);
}

// q, k or v ([3, N, H, T, D], entry Which) as [N * H, T, D].
template <std::size_t Which, std::size_t N, std::size_t H, std::size_t T, std::size_t D, class P>
constexpr auto heads_of(const P& projected) {
  return reshape<N * H, T, D>(slice<0, Which, Which + 1>(projected));
}

}  // namespace detail

template <fixed_string Name, std::size_t Heads, attention_options Options = attention_options{}, expression X>
constexpr auto multihead_attention(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank != 3) {
    return detail::attention_needs_n_t_e<S>::ok;
  } else if constexpr (Heads == 0 || S::dims[2] % Heads != 0) {
    return detail::embedding_not_divisible_by_heads<S::dims[2], Heads>::ok;
  } else {
    using T = floating_element_t<X>;
    constexpr std::size_t N = S::dims[0], L = S::dims[1], E = S::dims[2], D = E / Heads;
    constexpr auto in_weight = param<Name + fixed_string(".in_proj_weight"), T, 3 * E, E>;
    constexpr auto in_bias = param<Name + fixed_string(".in_proj_bias"), T, 3 * E>;
    constexpr auto out_weight = param<Name + fixed_string(".out_proj.weight"), T, E, E>;
    constexpr auto out_bias = param<Name + fixed_string(".out_proj.bias"), T, E>;

    // [N * L, 3E] -> [N, L, 3, H, D] -> [3, N, H, L, D]: the heads join the batch.
    const auto projected = tapeless::permute<2, 0, 3, 1, 4>(
        reshape<N, L, 3, Heads, D>(matmul(reshape<N * L, E>(x), tapeless::transpose(in_weight)) + in_bias));
    const auto q = detail::heads_of<0, N, Heads, L, D>(projected);
    const auto k = detail::heads_of<1, N, Heads, L, D>(projected);
    const auto v = detail::heads_of<2, N, Heads, L, D>(projected);

    constexpr exact_constant<detail::inverse_square_root<D>()> scale{};
    const auto scores = batch_matmul(q, tapeless::batch_transpose(k)) * scale;  // [N * H, L, L]
    const auto weights = [&] {
      if constexpr (Options.causal)
        return softmax<-1>(causal_mask(scores));
      else
        return softmax<-1>(scores);
    }();
    // [N * H, L, D] -> [N, H, L, D] -> [N, L, H, D]: the heads side by side again.
    const auto heads = tapeless::permute<0, 2, 1, 3>(reshape<N, Heads, L, D>(batch_matmul(weights, v)));
    return reshape<N, L, E>(matmul(reshape<N * L, E>(heads), tapeless::transpose(out_weight)) + out_bias);
  }
}

}  // namespace tapeless::nn
