// expect-error: this gradient was not taken with respect to the symbol
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
int main() { auto g = tl::grad(x * y, x); auto gy = g[y]; (void)gy; }
