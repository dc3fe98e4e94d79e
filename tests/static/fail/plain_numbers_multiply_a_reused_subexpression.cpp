// expect-error: plain numbers make the copies of a reused subexpression distinct
// Nested quotients reusing the previous level twice, with plain numbers: 26
// nodes as written become 166 once each copy's numbers are told apart, whose
// second derivative would take minutes; tl::share_numbers(f) is the fix.
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
template <int Depth, class Y>
auto quotients(Y y) {
  if constexpr (Depth == 0)
    return y;
  else
    return quotients<Depth - 1>(tl::pow(1.5 + tl::square(y), 0.75) / (2.0 + tl::log(1.0 + tl::square(y))));
}
constexpr auto x = tl::var<"x">;
int main() { return static_cast<int>(tl::d(quotients<4>(x), x)(x = 0.5)); }
