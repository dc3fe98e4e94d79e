// expect-error: a subexpression holding plain numbers is used many times
// A logistic map reusing its previous level twice: with 0.5 (not 0.5_c) each
// use of a level holds numbers of its own, and the graph becomes a tree.
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
using namespace tl::literals;
template <int Depth, class Y>
auto logistic(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return logistic<Depth - 1>(0.5 * y * (1_c - y));
}
constexpr auto x = tl::var<"x">;
int main() { return static_cast<int>(tl::d(logistic<8>(x), x)(x = 0.5)); }
