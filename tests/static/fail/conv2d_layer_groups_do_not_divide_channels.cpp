// expect-error: tapeless::nn::conv2d<name, out_channels, kernel, options>: the input must be [N, C, H, W] (rank 4) with options.groups dividing C and out_channels
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// 3 input channels in 2 groups.
constexpr auto X = tl::input<"X", float, 8, 3, 16, 16>;
constexpr auto y = tl::nn::conv2d<"conv1", 16, 3, tl::nn::conv_options{.groups = 2}>(X);
int main() {}
