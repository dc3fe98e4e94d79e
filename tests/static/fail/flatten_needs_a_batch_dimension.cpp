// expect-error: tapeless::flatten: expected an input of rank 2 or more ([N, ...])
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 784>;
constexpr auto y = tl::flatten(X);
int main() {}
