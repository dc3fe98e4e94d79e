#pragma once
// tl::nn::embedding<"emb", V, D>(ids): a learned vector per id, as
// torch.nn.Embedding(V, D): the parameter "emb.weight" [V, D], row k the
// vector of id k. ids is an integer input [N] or [N, T]; the result is
// [N, D] or [N, T, D]. The rows are copied (never a one-hot product) and
// their gradients added into the rows used; an id outside [0, V) is found
// before a step runs (program.last_error()).
//
//   constexpr auto ids = tl::input<"ids", std::int32_t, 32, 28>;
//   constexpr auto vectors = tl::nn::embedding<"emb", 1000, 16>(ids);  // [32, 28, 16]

#include <cstddef>

#include <tapeless/core/fixed_string.hpp>
#include <tapeless/expr/symbol.hpp>
#include <tapeless/expr/take_rows.hpp>

namespace tapeless::nn {

template <fixed_string Name, std::size_t V, std::size_t D, class T = float, expression Ids>
constexpr auto embedding(const Ids& ids) {
  return take_rows(param<Name + fixed_string(".weight"), T, V, D>, ids);
}

}  // namespace tapeless::nn
