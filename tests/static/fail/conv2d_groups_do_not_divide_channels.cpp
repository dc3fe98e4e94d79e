// expect-error: tl::simd::conv2d: invalid conv2d_shape: every size must be positive, groups must divide in_channels and out_channels
#include <tapeless/simd/conv2d.hpp>
namespace simd = tapeless::simd;
constexpr simd::conv2d_shape s{.batch = 1, .in_channels = 3, .height = 8, .width = 8, .out_channels = 4,
                               .kernel_height = 3, .kernel_width = 3, .groups = 2};
int main() {
  float x[3 * 64], w[4 * 3 * 9], y[4 * 36];
  simd::conv2d<s>(x, w, y, nullptr);
}
