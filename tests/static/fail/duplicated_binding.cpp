// expect-error: symbol_bound_twice<tapeless::fixed_string<2>{"x"}>
// expect-error-clang: symbol_bound_twice<{{120, 0}}>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
int main() { return static_cast<int>((x * x)(x = 1.0, x = 2.0)); }
