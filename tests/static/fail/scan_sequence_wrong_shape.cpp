// expect-error: the sequence must be [N, T, F] (batch first)
// The sequence's features (4) are not the step input's (3).
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;

constexpr auto h = tl::input<"h", float, 2, 4>;
constexpr auto x = tl::input<"x", float, 2, 3>;
constexpr auto X = tl::input<"X", float, 2, 5, 4>;
auto hs = tl::scan(tl::tanh(h), h, x, X);
