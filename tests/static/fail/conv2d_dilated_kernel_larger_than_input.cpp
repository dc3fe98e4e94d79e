// expect-error: and the dilated kernel fitting in the padded input
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// A 3x3 kernel with dilation 4 spans 9x9: more than the 8x8 image.
constexpr auto X = tl::input<"X", float, 2, 1, 8, 8>;
constexpr auto W = tl::param<"W", float, 4, 1, 3, 3>;
constexpr auto y = tl::conv2d<tl::conv_options{.dilation = 4}>(X, W);
int main() {}
