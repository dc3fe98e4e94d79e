// expect-error: tl::simd::pool2d: invalid pool2d_shape: every size must be positive, padding at most half the kernel
#include <tapeless/simd/pool2d.hpp>
namespace simd = tapeless::simd;
constexpr simd::pool2d_shape s{.height = 8, .width = 8, .kernel = 2, .padding = 2};
int main() {
  float x[64], y[64];
  simd::avg_pool2d<s>(x, y);
}
