// expect-error: loss_shapes_differ_by_a_trailing_1<tapeless::fixed_string<4>{"mse"}, tapeless::shape<8, 1>, tapeless::shape<8> >
// expect-error-clang: loss_shapes_differ_by_a_trailing_1<{{109, 115, 101, 0}}, tapeless::shape<8, 1>, tapeless::shape<8>>
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto prediction = tl::param<"p", float, 8, 1>;
constexpr auto target = tl::input<"t", float, 8>;
int main() { auto loss = tl::mse(prediction, target); (void)loss; }
