// expect-error: tapeless::max_pool2d / avg_pool2d<kernel, stride, padding>: expected an input [N, C, H, W]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// [C, H, W]: the batch axis is missing.
constexpr auto X = tl::input<"X", float, 8, 16, 16>;
constexpr auto y = tl::avg_pool2d<2>(X);
int main() {}
