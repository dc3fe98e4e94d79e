// expect-error: matmul_shape_mismatch<tapeless::shape<64, 784>, tapeless::shape<10, 784> >
// expect-error-clang: matmul_shape_mismatch<tapeless::shape<64, 784>, tapeless::shape<10, 784>>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto X = tl::input<"X", float, 64, 784>;
constexpr auto W = tl::param<"W", float, 10, 784>;
int main() { auto z = tl::matmul(X, W); (void)z; }
