// expect-error: batch_matmul_shape_mismatch<tapeless::shape<3, 5, 4>, tapeless::shape<3, 5, 4> >
// expect-error-clang: batch_matmul_shape_mismatch<tapeless::shape<3, 5, 4>, tapeless::shape<3, 5, 4>>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto Q = tl::input<"Q", float, 3, 5, 4>;
constexpr auto K = tl::input<"K", float, 3, 5, 4>;
int main() { auto s = tl::batch_matmul(Q, K); (void)s; }
