// expect-error: an expression is called with bindings written name = value
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto x = tl::var<"x">;
int main() { return static_cast<int>((x * x)(1.0)); }
