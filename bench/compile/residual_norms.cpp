// Compile-time probe: the training step of LEVELS residual layer-norm levels
// (h -> h + layer_norm(h)), the shape of a transformer's residual stream.
// Each level reads the one below several times, so a program's node list
// written out as a tree grows by a factor of about twenty per level, while
// its distinct nodes grow by a few dozen. A compiler step that walks the
// types as trees instead of graphs shows here first: clang 14's
// argument-dependent lookup did (core/type_list.hpp): at -O0, 19.3 s at two
// levels and over 300 s at three before type_at's lookup was qualified, 4.3
// and 5.6 s after (bench/results/compile_cost.md).
//
//   clang++ -std=c++20 -O0 -Iinclude -DLEVELS=3 -c bench/compile/residual_norms.cpp
#include <tapeless/tapeless.hpp>

// A default, so that bench/compile/measure.py (every .cpp here) compiles it too.
#ifndef LEVELS
#define LEVELS 3
#endif

namespace tl = tapeless;

constexpr auto x = tl::input<"x", float, 4, 16>;
constexpr auto w = tl::param<"w", float, 4, 16>;
constexpr auto h0 = x * w;
constexpr auto h1 = h0 + tl::nn::layer_norm<"ln1">(h0);
constexpr auto h2 = h1 + tl::nn::layer_norm<"ln2">(h1);
constexpr auto h3 = h2 + tl::nn::layer_norm<"ln3">(h2);
constexpr auto h4 = h3 + tl::nn::layer_norm<"ln4">(h3);
#if LEVELS == 1
constexpr auto top = h1;
#elif LEVELS == 2
constexpr auto top = h2;
#elif LEVELS == 3
constexpr auto top = h3;
#else
constexpr auto top = h4;
#endif
constexpr auto loss = tl::sum(top);

int main() {
  auto program = tl::compile(loss);
  auto params = tl::parameters_of(loss);
  tl::init::xavier_uniform(params, /*seed*/ 1);
  tl::tensor<float, 4, 16> input;
  input.fill(0.5f);
  return program.step(params, x = input) >= 0 ? 0 : 1;
}
