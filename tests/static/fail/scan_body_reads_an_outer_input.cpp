// expect-error: the body may read only its carry, its step's input and params
// A scan's body reads an input that is neither its carry nor its step: it
// would have no value at any step.
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;

constexpr auto h = tl::input<"h", float, 2, 4>;
constexpr auto x = tl::input<"x", float, 2, 3>;
constexpr auto other = tl::input<"other", float, 2, 4>;
constexpr auto X = tl::input<"X", float, 2, 5, 3>;
auto hs = tl::scan(tl::tanh(h + other), h, x, X);
