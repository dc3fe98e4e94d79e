// expect-error: no_binding_for_symbol<tapeless::fixed_string<2>{"y"}>
// expect-error-clang: no_binding_for_symbol<{{121, 0}}>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto y = tl::var<"y">;
int main() { return static_cast<int>((x * y)(x = 1.0)); }
