// expect-error: tapeless::nn::multihead_attention<name, Heads>: the embedding width E (the input's last dimension) must be divisible by Heads
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 2, 5, 10>;
int main() { auto y = tl::nn::multihead_attention<"attn", 3>(X); (void)y; }
