// expect-error: with more than one value per channel (N * H * W > 1, as torch requires while training)
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
// A batch of one row: each channel's variance would be over one value.
constexpr auto X = tl::input<"X", float, 1, 16>;
constexpr auto y = tl::nn::batch_norm1d<"bn1">(X);
int main() {}
