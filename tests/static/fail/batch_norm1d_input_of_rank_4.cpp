// expect-error: tapeless::nn::batch_norm2d needs an input [N, C, H, W], batch_norm1d [N, C] or [N, C, L]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// Images [N, C, H, W] belong to batch_norm2d.
constexpr auto X = tl::input<"X", float, 8, 4, 6, 6>;
constexpr auto y = tl::nn::batch_norm1d<"bn1">(X);
int main() {}
