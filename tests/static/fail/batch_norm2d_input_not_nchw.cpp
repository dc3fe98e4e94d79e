// expect-error: tapeless::nn::batch_norm2d needs an input [N, C, H, W], batch_norm1d [N, C] or [N, C, L]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// Features [N, C] belong to batch_norm1d.
constexpr auto X = tl::input<"X", float, 8, 16>;
constexpr auto y = tl::nn::batch_norm2d<"bn1">(X);
int main() {}
