// expect-error: tapeless::max_pool2d / avg_pool2d<kernel, stride, padding>: expected an input [N, C, H, W], a kernel and stride of at least 1, padding at most half the kernel (as torch), and the window fitting in the padded input
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// A 4x4 window over 3x3 planes.
constexpr auto X = tl::input<"X", float, 2, 8, 3, 3>;
constexpr auto y = tl::max_pool2d<4>(X);
int main() {}
