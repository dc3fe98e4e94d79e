// expect-error: the variable of differentiation must be a symbol
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
int main() { auto f = tl::d(x * x, 2.0); (void)f; }
