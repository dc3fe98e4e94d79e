// expect-error: tapeless::nn::conv2d<name, out_channels, kernel, options>: the input must be [N, C, H, W] (rank 4)
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// An image batch left flat, [N, H * W], not reshaped to [N, 1, H, W].
constexpr auto X = tl::input<"X", float, 8, 784>;
constexpr auto y = tl::nn::conv2d<"conv1", 16, 3>(X);
int main() {}
