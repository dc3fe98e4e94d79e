#pragma once
// tl::nn::transformer_encoder_layer<"block0", Heads, FF>(x): a pre-norm
// transformer block, as torch.nn.TransformerEncoderLayer(E, Heads, FF,
// dropout=0, activation="gelu", batch_first=True, norm_first=True):
//
//   h = x + self_attn(norm1(x))
//   y = h + linear2(gelu_exact(linear1(norm2(h))))
//
// x [N, T, E] gives [N, T, E]. The parameters have the torch module's
// state_dict names under Name, so a torch model's blocks load by name:
// "block0.self_attn.in_proj_weight" [3E, E], "block0.self_attn.in_proj_bias",
// "block0.self_attn.out_proj.weight" / ".bias", "block0.linear1.weight" [FF, E],
// "block0.linear1.bias", "block0.linear2.weight" [E, FF], "block0.linear2.bias",
// "block0.norm1.weight" / ".bias", "block0.norm2.weight" / ".bias" (eps 1e-5).
//
//   constexpr auto y = tl::nn::transformer_encoder_layer<"block0", 2, 32,
//                                                        tl::nn::attention_options{.causal = true}>(x);
//
// Causal attention is torch's src_mask = generate_square_subsequent_mask(T).

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/activations.hpp>
#include <tapeless/expr/arithmetic.hpp>
#include <tapeless/expr/reshape.hpp>
#include <tapeless/nn/layer_norm.hpp>
#include <tapeless/nn/linear.hpp>
#include <tapeless/nn/multihead_attention.hpp>

namespace tapeless::nn {

template <fixed_string Name, std::size_t Heads, std::size_t FF, attention_options Options = attention_options{},
          expression X>
constexpr auto transformer_encoder_layer(const X& x) {
  using S = shape_of<X>;
  if constexpr (S::rank != 3) {
    return detail::attention_needs_n_t_e<S>::ok;
  } else {
    constexpr std::size_t N = S::dims[0], L = S::dims[1], E = S::dims[2];
    const auto h = x + multihead_attention<Name + fixed_string(".self_attn"), Heads, Options>(
                           layer_norm<Name + fixed_string(".norm1")>(x));
    const auto rows = reshape<N * L, E>(layer_norm<Name + fixed_string(".norm2")>(h));
    const auto ff = linear<Name + fixed_string(".linear2"), E>(
        gelu_exact(linear<Name + fixed_string(".linear1"), FF>(rows)));
    return h + reshape<N, L, E>(ff);
  }
}

}  // namespace tapeless::nn
