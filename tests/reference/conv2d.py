#!/usr/bin/env python3
"""Reference convolutions and poolings of PyTorch, for tests/simd/conv2d.cpp
and tests/simd/pool2d.cpp.

Writes conv2d.inc and pool2d.inc next to this file. For each convolution case: a seeded
input, weight, bias and output gradient (float32), and what torch computes
from them in float64: the output without and with bias + ReLU, and the
gradients of sum(output * output_gradient) with respect to the input, the
weight and the bias. For each pooling case: the input, an output gradient,
torch's output (and, for max pooling, its argmax indices) and input gradient.

Run it with Debian's python3-torch:

    python3 tests/reference/conv2d.py          # rewrite the .inc
    python3 tests/reference/conv2d.py --check  # are the .inc files up to date?
"""
import pathlib
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve()
OUTPUTS = (HERE.with_name("conv2d.inc"), HERE.with_name("pool2d.inc"))
SEED = 20261207

# name: (batch, in_channels, height, width, out_channels, kernel_height, kernel_width,
#        stride, padding, dilation, groups). Odd channel counts, non-square images.
CONV_CASES = {
    "conv_3x3_pad1": (2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1),
    "conv_stride2_pad1": (2, 3, 9, 8, 4, 3, 3, 2, 1, 1, 1),
    "conv_dilation2": (1, 2, 10, 11, 3, 3, 3, 1, 2, 2, 1),
    "conv_groups2": (2, 4, 6, 7, 6, 3, 3, 1, 1, 1, 2),
    "conv_depthwise_stride2": (2, 5, 8, 9, 10, 3, 3, 2, 1, 1, 5),
    "conv_kernel_2x4": (1, 3, 5, 12, 9, 2, 4, 1, 0, 1, 1),
    "conv_wide_rows": (1, 2, 3, 37, 8, 3, 3, 1, 1, 1, 1),
    "conv_depthwise_wide": (1, 3, 5, 40, 3, 3, 3, 1, 1, 1, 3),
    "conv_deep_8x8": (1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1),
    "conv_1x1_stride2": (2, 6, 5, 7, 8, 1, 1, 2, 0, 1, 1),
    "conv_groups3_dilation2_stride2": (1, 6, 11, 13, 9, 3, 2, 2, 2, 2, 3),
    # First layers (one input channel per group, many outputs): the blocked
    # input gradient and the forward product band by band.
    "conv_first_layer": (2, 1, 6, 10, 24, 3, 3, 1, 1, 1, 1),
    "conv_first_layer_groups2": (1, 2, 5, 9, 32, 3, 3, 1, 1, 1, 2),
    # Depthwise, one output channel per group: the row kernels at stride 1
    # (rows narrower than, as wide as and wider than a register of 4, 8 or
    # 16 lanes; odd widths; dilation; no padding), the direct loops at stride 2.
    "conv_depthwise_14x14": (3, 4, 14, 14, 4, 3, 3, 1, 1, 1, 4),
    "conv_depthwise_odd_7x13": (2, 5, 7, 13, 5, 3, 3, 1, 1, 1, 5),
    "conv_depthwise_5x3_dilation2": (1, 3, 9, 17, 3, 5, 3, 1, 2, 2, 3),
    "conv_depthwise_pad0_narrow": (2, 3, 6, 5, 3, 3, 3, 1, 0, 1, 3),
    "conv_depthwise_7x7_wide": (1, 2, 4, 70, 2, 7, 7, 1, 3, 1, 2),
    "conv_depthwise_stride2_odd": (2, 6, 9, 11, 6, 3, 3, 2, 1, 1, 6),
    # Rows of 9: with AVX2, two chunks (8 + 1), taps loaded straight from the
    # row beside shifted ones; with AVX-512, one chunk past the row's end.
    "conv_depthwise_9_wide": (2, 3, 6, 9, 3, 3, 3, 1, 1, 1, 3),
}

# name: (kind, batch, channels, height, width, kernel, stride, padding, integer_inputs).
# Windows that do not divide the input; integer inputs make ties (torch takes
# the first maximum of a window in row-major order).
POOL_CASES = {
    "max_3_stride2_pad1": ("max", 2, 3, 7, 9, 3, 2, 1, False),
    "max_2": ("max", 1, 2, 7, 5, 2, 2, 0, False),
    "max_3_stride1_ties": ("max", 1, 2, 6, 7, 3, 1, 1, True),
    "max_2_wide": ("max", 1, 3, 6, 45, 2, 2, 0, False),
    "avg_3_stride2_pad1": ("avg", 2, 3, 9, 7, 3, 2, 1, False),
    "avg_2": ("avg", 1, 2, 5, 7, 2, 2, 0, False),
    "avg_2_wide": ("avg", 1, 3, 6, 45, 2, 2, 0, False),
    "global_avg": ("global_avg", 2, 3, 5, 7, 0, 0, 0, False),
}


def floats(t):
    # The shortest decimal that reads back as the same float32.
    values = [str(v) for v in t.to(torch.float32).flatten().numpy()]
    lines = []
    for i in range(0, len(values), 10):
        lines.append("      " + ", ".join(v + ("f" if ("." in v or "e" in v) else ".f") for v in values[i:i + 10]))
    return "{\n" + ",\n".join(lines) + "}"


def ints(t):
    values = [str(int(v)) for v in t.flatten().tolist()]
    lines = ["      " + ", ".join(values[i:i + 16]) for i in range(0, len(values), 16)]
    return "{\n" + ",\n".join(lines) + "}"


def array(kind, name, t, fmt):
    return f"  static constexpr std::array<{kind}, {t.numel()}> {name} = {fmt(t)};\n"


def conv_case(name, spec, gen):
    n, c, h, w, o, kh, kw, stride, padding, dilation, groups = spec
    x = torch.randn(n, c, h, w, generator=gen)
    weight = torch.randn(o, c // groups, kh, kw, generator=gen) * 0.5
    bias = torch.randn(o, generator=gen)
    x64, w64, b64 = (t.double().requires_grad_() for t in (x, weight, bias))
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = torch.nn.functional.conv2d(x64, w64, None, **args)
    dy = torch.randn(y.shape, generator=gen)
    y_biased = torch.nn.functional.conv2d(x64, w64, b64, **args)
    (y_biased * dy.double()).sum().backward()
    out = f"struct {name} {{\n  static constexpr const char* name = \"{name}\";\n"
    out += ("  static constexpr tl::simd::conv2d_shape shape{"
            f".batch = {n}, .in_channels = {c}, .height = {h}, .width = {w}, .out_channels = {o}, "
            f".kernel_height = {kh}, .kernel_width = {kw}, .stride = {stride}, .padding = {padding}, "
            f".dilation = {dilation}, .groups = {groups}}};\n")
    out += array("float", "input", x, floats)
    out += array("float", "weight", weight, floats)
    out += array("float", "bias", bias, floats)
    out += array("float", "output_gradient", dy, floats)
    out += array("float", "output", y.detach(), floats)
    out += array("float", "output_bias_relu", torch.relu(y_biased).detach(), floats)
    out += array("float", "input_gradient", x64.grad, floats)
    out += array("float", "weight_gradient", w64.grad, floats)
    out += array("float", "bias_gradient", b64.grad, floats)
    return out + "};\n\n"


def pool_case(name, spec, gen):
    kind, n, c, h, w, k, stride, padding, integer_inputs = spec
    if integer_inputs:
        x = torch.randint(0, 3, (n, c, h, w), generator=gen).float()
    else:
        x = torch.randn(n, c, h, w, generator=gen)
    x64 = x.double().requires_grad_()
    indices = None
    if kind == "max":
        y, indices = torch.nn.functional.max_pool2d(x64, k, stride, padding, return_indices=True)
    elif kind == "avg":
        y = torch.nn.functional.avg_pool2d(x64, k, stride, padding)  # count_include_pad=True
    else:
        y = torch.nn.functional.adaptive_avg_pool2d(x64, 1)
    dy = torch.randn(y.shape, generator=gen)
    (y * dy.double()).sum().backward()
    out = f"struct {name} {{\n  static constexpr const char* name = \"{name}\";\n"
    if kind == "global_avg":
        out += f"  static constexpr std::size_t batch = {n}, channels = {c}, height = {h}, width = {w};\n"
    else:
        out += ("  static constexpr tl::simd::pool2d_shape shape{"
                f".batch = {n}, .channels = {c}, .height = {h}, .width = {w}, .kernel = {k}, "
                f".stride = {stride}, .padding = {padding}}};\n")
    out += array("float", "input", x, floats)
    out += array("float", "output_gradient", dy, floats)
    out += array("float", "output", y.detach(), floats)
    if indices is not None:
        out += array("std::int32_t", "indices", indices, ints)
    out += array("float", "input_gradient", x64.grad, floats)
    return out + "};\n\n"


def header(test):
    return (f"// Generated by tests/reference/conv2d.py with PyTorch {torch.__version__}: do not\n"
            "// edit; rerun the script with Debian's python3-torch to change it.\n//\n"
            f"// Included by tests/simd/{test} where tl names tapeless. Every tensor\n"
            "// flattened in row-major (NCHW) order; references computed by torch in\n"
            "// float64 from the float32 data and rounded to float32.\n\n")


def generate():
    gen = torch.Generator().manual_seed(SEED)
    conv = header("conv2d.cpp") + "namespace conv2d_reference {\n\n"
    for name, spec in CONV_CASES.items():
        conv += conv_case(name, spec, gen)
    conv += "}  // namespace conv2d_reference\n"
    gen = torch.Generator().manual_seed(SEED + 1)  # its own stream: new conv cases leave pool2d.inc as it is
    pool = header("pool2d.cpp") + "namespace pool2d_reference {\n\n"
    for name, spec in POOL_CASES.items():
        pool += pool_case(name, spec, gen)
    pool += "}  // namespace pool2d_reference\n"
    return conv, pool


def main():
    texts = generate()
    if "--check" in sys.argv[1:]:
        stale = [path.name for path, text in zip(OUTPUTS, texts) if path.read_text() != text]
        if stale:
            sys.exit(f"{', '.join(stale)} out of date: rerun {HERE.name}")
        print("conv2d.inc and pool2d.inc are up to date")
        return
    for path, text in zip(OUTPUTS, texts):
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
