// expect-error: tapeless::conv2d: expected input [N, C, H, W] and weight [O, C / groups, KH, KW]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// The input has 3 channels, the weight reads 2.
constexpr auto X = tl::input<"X", float, 8, 3, 16, 16>;
constexpr auto W = tl::param<"W", float, 4, 2, 3, 3>;
constexpr auto y = tl::conv2d(X, W);
int main() {}
