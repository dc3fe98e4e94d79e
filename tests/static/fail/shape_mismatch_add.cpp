// expect-error: elementwise_shape_mismatch<'+', tapeless::shape<64, 10>, tapeless::shape<64, 3> >
// expect-error-clang: elementwise_shape_mismatch<'+', tapeless::shape<64, 10>, tapeless::shape<64, 3>>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto a = tl::input<"a", float, 64, 10>;
constexpr auto b = tl::param<"b", float, 64, 3>;
int main() { auto f = a + b; (void)f; }
