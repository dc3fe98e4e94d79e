// expect-error: tapeless::nn::layer_norm: the input needs at least one axis (normalized over the last)
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::nn::layer_norm<"ln">(x);
int main() {}
