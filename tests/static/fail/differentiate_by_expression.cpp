// expect-error: the variable of differentiation must be a symbol
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
int main() { auto f = tl::d(x * y, x * y); (void)f; }
