// expect-error: tapeless::conv2d: expected input [N, C, H, W] and weight [O, C / groups, KH, KW] with groups dividing C and O, stride and dilation at least 1, and the dilated kernel fitting in the padded input
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// A 7x7 kernel over a 4x4 image padded by 1 (6x6).
constexpr auto X = tl::input<"X", float, 2, 1, 4, 4>;
constexpr auto W = tl::param<"W", float, 4, 1, 7, 7>;
constexpr auto y = tl::conv2d<tl::conv_options{.padding = 1}>(X, W);
int main() {}
