// expect-error: more distinct nodes than the bound TAPELESS_MAX_GRAPH_NODES
// The bound is lowered here so that a small graph passes it.
#define TAPELESS_MAX_GRAPH_NODES 12
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto f = tl::sin(tl::cos(tl::exp(tl::sin(tl::cos(tl::exp(tl::sin(tl::cos(tl::exp(x * x)))))))));
int main() { return static_cast<int>(tl::d(f, x)(x = 0.5)); }
