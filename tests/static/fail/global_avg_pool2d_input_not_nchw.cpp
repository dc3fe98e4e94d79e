// expect-error: tapeless::global_avg_pool2d: expected an input [N, C, H, W]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// Already pooled: [N, C].
constexpr auto X = tl::input<"X", float, 8, 16>;
constexpr auto y = tl::global_avg_pool2d(X);
int main() {}
