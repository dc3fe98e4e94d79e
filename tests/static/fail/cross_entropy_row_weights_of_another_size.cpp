// expect-error: row_weights must be a floating-point expression of shape [B]
#include <tapeless/tapeless.hpp>
namespace tl = tapeless;
constexpr auto Z = tl::param<"Z", float, 8, 3>;
constexpr auto Y = tl::input<"Y", std::int32_t, 8>;
constexpr auto M = tl::input<"M", float, 7>;
int main() { (void)tl::cross_entropy(Z, Y, M); }
