"""PyTorch's layer norm at bench/kernels/layer_norm.cpp's shapes, one thread:
the forward call and a training step of sum(layer_norm(P) * B), the minimum
over 7 rounds of 200 calls each (Python's call overhead included, a few
microseconds a call). Debian's PyTorch:

    taskset -c 1 /usr/bin/python3 bench/kernels/layer_norm_torch.py
"""
import time

import torch

torch.set_num_threads(1)
print(f"torch {torch.__version__}, one thread; us per call, minimum of 7 rounds of 200")
for rows, width in [(2048, 64), (512, 768), (64, 4096)]:
    P = torch.randn(rows, width, requires_grad=True)
    weight = torch.ones(width, requires_grad=True)
    bias = torch.zeros(width, requires_grad=True)
    B = torch.randn(rows, width)
    step = forward = float("inf")
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(200):
            P.grad = weight.grad = bias.grad = None
            (torch.nn.functional.layer_norm(P, (width,), weight, bias, eps=1e-5) * B).sum().backward()
        t1 = time.perf_counter()
        with torch.no_grad():
            for _ in range(200):
                (torch.nn.functional.layer_norm(P, (width,), weight, bias, eps=1e-5) * B).sum()
        t2 = time.perf_counter()
        step = min(step, (t1 - t0) / 200 * 1e6)
        forward = min(forward, (t2 - t1) / 200 * 1e6)
    print(f"layer norm [{rows}, {width}]: forward {forward:.1f} us, training step {step:.1f} us")
