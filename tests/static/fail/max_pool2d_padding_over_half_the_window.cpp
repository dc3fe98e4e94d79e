// expect-error: padding at most half the kernel (as torch)
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// Window 2 with padding 2: torch refuses padding above kernel / 2.
constexpr auto X = tl::input<"X", float, 2, 8, 16, 16>;
constexpr auto y = tl::max_pool2d<2, 2, 2>(X);
int main() {}
