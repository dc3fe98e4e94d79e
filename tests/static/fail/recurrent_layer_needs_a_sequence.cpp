// expect-error: the input must be a sequence [N, T, F]
// An LSTM given one [N, F] batch instead of a sequence.
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;

constexpr auto X = tl::input<"X", float, 2, 3>;
auto hs = tl::nn::lstm<"lstm", 4>(X);
