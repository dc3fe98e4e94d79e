#pragma once
// The static shape of a 2-D convolution, PyTorch's Conv2d semantics (NCHW):
//
//   input  [batch, in_channels, height, width]
//   weight [out_channels, in_channels / groups, kernel_height, kernel_width]
//   output [batch, out_channels, out_height(), out_width()]
//
// with the same stride, zero padding and dilation along both axes. Groups
// split the channels into `groups` independent convolutions (groups ==
// in_channels is a depthwise convolution). A structural value, so that it
// is a template argument of the kernels:
//
//   constexpr simd::conv2d_shape conv1{.batch = 64, .in_channels = 1, .height = 28, .width = 28,
//                                      .out_channels = 32, .kernel_height = 3, .kernel_width = 3,
//                                      .padding = 1};

#include <cstddef>

namespace tapeless::simd {

struct conv2d_shape {
  std::size_t batch = 1, in_channels = 1, height = 1, width = 1;
  std::size_t out_channels = 1, kernel_height = 1, kernel_width = 1;
  std::size_t stride = 1, padding = 0, dilation = 1, groups = 1;

  // Extent of the kernel on the input, dilation included.
  constexpr std::size_t span_height() const { return dilation * (kernel_height - 1) + 1; }
  constexpr std::size_t span_width() const { return dilation * (kernel_width - 1) + 1; }

  // True when every size is positive, the groups divide both channel counts
  // and the dilated kernel fits in the padded input.
  constexpr bool valid() const {
    return batch > 0 && in_channels > 0 && height > 0 && width > 0 && out_channels > 0 && kernel_height > 0 &&
           kernel_width > 0 && stride > 0 && dilation > 0 && groups > 0 && in_channels % groups == 0 &&
           out_channels % groups == 0 && span_height() <= height + 2 * padding &&
           span_width() <= width + 2 * padding;
  }

  constexpr std::size_t out_height() const { return (height + 2 * padding - span_height()) / stride + 1; }
  constexpr std::size_t out_width() const { return (width + 2 * padding - span_width()) / stride + 1; }

  constexpr std::size_t group_in_channels() const { return in_channels / groups; }
  constexpr std::size_t group_out_channels() const { return out_channels / groups; }
  // Products summed into one output element: in_channels / groups * KH * KW.
  constexpr std::size_t group_depth() const { return group_in_channels() * kernel_height * kernel_width; }

  constexpr std::size_t input_size() const { return batch * in_channels * height * width; }
  constexpr std::size_t weight_size() const { return out_channels * group_depth(); }
  constexpr std::size_t output_plane() const { return out_height() * out_width(); }
  constexpr std::size_t output_size() const { return batch * out_channels * output_plane(); }

  // Multiply-adds of the forward pass (each gradient costs as many), times 2.
  constexpr double flop() const { return 2.0 * double(output_size()) * double(group_depth()); }
};

}  // namespace tapeless::simd
