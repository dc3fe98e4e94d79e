// expect-error: stride and dilation at least 1
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 2, 1, 8, 8>;
constexpr auto y = tl::nn::conv2d<"conv1", 4, 3, tl::nn::conv_options{.stride = 0}>(X);
int main() {}
