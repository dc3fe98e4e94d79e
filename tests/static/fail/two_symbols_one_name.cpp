// expect-error: two_symbols_share_a_name<tapeless::fixed_string<2>{"x"}>
// expect-error-clang: two_symbols_share_a_name<{{120, 0}}>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
constexpr auto other_x = tl::symbol<"x", float, tl::shape<>, tl::symbol_kind::parameter>{};
int main() { return static_cast<int>((x * other_x)(x = 1.0)); }
