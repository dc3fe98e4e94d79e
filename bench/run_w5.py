#!/usr/bin/env python3
"""W5 side by side: a LeNet-like CNN training step at batch 64 on one thread
(bench/peers/common.hpp, namespace w5), tapeless against libtorch; with
--workload w5bn_infer_b64, the same network with batch norm, evaluated.

    meson setup build-bench -Dbench=true -Dtests=false -Dexamples=false
    meson compile -C build-bench bench/peers/make_inputs bench/peers/tapeless_cnn bench/peers/torch_cnn
    python3 bench/run_w5.py build-bench --rounds 11 --seconds 0.5 --cpu 0

It writes the inputs (make_inputs), checks that every program computes the
same loss after 10 updates, calibrates each to about --seconds per
repetition, then takes --rounds interleaved rounds (the order alternating),
each program pinned to --cpu. Reported per program: the median and the
minimum over the rounds of the wall time per step and of the CPU time per
step (the process's CPU time over the timed calls, every thread's, which
another process sharing the core does not inflate as much as the wall time), and the ratio to libtorch
taken round by round. --program name=path adds another build of a program
(an A/B of two versions of tapeless, say). --threads N runs every program on
N threads (tapeless lent a tl::thread_pool of N, libtorch's
torch::set_num_threads(N) with passive OpenMP workers), pinned to cores
--cpu .. --cpu + N - 1.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

B, SIDE, C1, C2, H, OUT = 64, 28, 32, 64, 128, 10
FC_IN = C2 * 7 * 7
CONV1 = 2.0 * B * C1 * SIDE * SIDE * 9
CONV2 = 2.0 * B * C2 * (SIDE // 2) ** 2 * C1 * 9
FC = 2.0 * B * (FC_IN * H + H * OUT)
FLOP_OF = {"w5_train_b64": 2 * CONV1 + 3 * CONV2 + 3 * FC,  # no input gradient for conv1
           "w5bn_infer_b64": CONV1 + CONV2 + FC}
TEXT = {"w5_train_b64": "W5 train step, batch 64", "w5bn_infer_b64": "W5 with batch norm, inference (eval), batch 64"}
WORKLOAD = "w5_train_b64"


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def field(stdout, tag):
    for line in stdout.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == tag and f[1] == WORKLOAD:
            return [float(v) for v in f[2:]]
    raise RuntimeError(f"no '{tag} {WORKLOAD}' line in:\n{stdout}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir", type=Path)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--program", action="append", default=[], help="name=path of another program to time")
    ap.add_argument("--min-calls", type=int, default=20)
    ap.add_argument("--workload", choices=sorted(FLOP_OF), default="w5_train_b64")
    a = ap.parse_args()
    global WORKLOAD
    WORKLOAD = a.workload
    flop = FLOP_OF[WORKLOAD]

    peers = a.build_dir / "bench" / "peers"
    # libtorch as built by default, and tuned as an expert would: its linear
    # layers go through the system BLAS, and Debian's OpenBLAS 0.3.21 takes
    # its AVX2 kernels on Zen 5 unless told SkylakeX (measured on this machine kind);
    # its CPU allocator is glibc's malloc, which maps every block over 128 KiB
    # afresh and unmaps it when freed, so each step faults its activations'
    # pages in again (expensive in a VM): the tuned runs keep freed memory
    # (mmap threshold 32 MiB, the most glibc allows, no trimming). Convolutions
    # with oneDNN (the default) and without (ATen's im2col + BLAS). tapeless is
    # compared with the fastest of the three, round by round.
    tuned = {"OPENBLAS_CORETYPE": "SkylakeX", "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
             "MALLOC_TRIM_THRESHOLD_": str(1 << 34)}
    programs = [("tapeless", peers / "tapeless_cnn", {}), ("libtorch", peers / "torch_cnn", {}),
                ("libtorch, tuned", peers / "torch_cnn", tuned),
                ("libtorch, tuned, without oneDNN", peers / "torch_cnn", dict(tuned, TAPELESS_TORCH_MKLDNN="0"))]
    programs += [(p.split("=", 1)[0], Path(p.split("=", 1)[1]), {}) for p in a.program]
    programs = [(n, p, e) for n, p, e in programs if p.exists()]
    # libtorch's intra-op threads come from torch::set_num_threads (TAPELESS_BENCH_THREADS);
    # BLAS stays on one thread inside them, and idle OpenMP workers sleep rather than spin.
    base_env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                    TAPELESS_BENCH_THREADS=str(a.threads), OMP_WAIT_POLICY="passive")
    envs = {n: dict(base_env, **e) for n, _, e in programs}
    pin = ["taskset", "-c", f"{a.cpu}-{a.cpu + a.threads - 1}" if a.threads > 1 else str(a.cpu)]

    with tempfile.TemporaryDirectory() as data:
        run([str(peers / "make_inputs"), data])
        checks = {n: field(run(pin + [str(p), data, "check"], envs[n]), "check")[0] for n, p, _ in programs}
        reference = checks.get("libtorch", next(iter(checks.values())))
        for n, v in checks.items():
            print(f"check {n}: value of call 10 (training: the loss after 10 updates) {v:.9g} (relative difference {abs(v - reference) / abs(reference):.1e})")
            if abs(v - reference) > 1e-4 * abs(reference):
                sys.exit(f"{n} does not compute what libtorch does")
        # At least --min-calls steps per repetition (and a tenth of them as warm-up): libtorch's
        # first steps grow its heap and are slower than the ones after.
        calls = {n: max(a.min_calls, int(field(run(pin + [str(p), data, "calibrate", str(a.seconds)], envs[n]),
                                                 "calls")[0]))
                 for n, p, _ in programs}
        wall = {n: [] for n, _, _ in programs}
        cpu = {n: [] for n, _, _ in programs}
        loads = [os.getloadavg()[0]]
        for k in range(a.rounds):
            order = programs if k % 2 == 0 else programs[::-1]
            for n, p, _ in order:
                t = field(run(pin + [str(p), data, "time", f"{WORKLOAD}={calls[n]}"], envs[n]), "time")
                wall[n].append(t[0] / 1e3)  # us per step
                cpu[n].append(t[2] / 1e3)
            loads.append(os.getloadavg()[0])

    avx512 = "avx512f" in Path("/proc/cpuinfo").read_text()
    where = f"one thread pinned to core {a.cpu}" if a.threads == 1 else f"{a.threads} threads pinned to cores {pin[-1]}"
    print(f"\n{TEXT[WORKLOAD]}, {where}; {a.rounds} rounds of ~{a.seconds} s; "
          f"SIMD: {'AVX-512' if avx512 else 'AVX2 or less'}; load average (1 min) {min(loads):.1f}-{max(loads):.1f}; "
          f"{flop / 1e6:.0f} MFLOP per step")
    print("| implementation | wall us/step, median (min-max) | CPU us/step, median (min) | GFLOP/s (median wall) | "
          "faster libtorch / it, wall (round by round) | the same, CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    torches = [n for n in wall if n.startswith("libtorch")]
    best_wall = [min(r) for r in zip(*(wall[n] for n in torches))] if torches else []
    best_cpu = [min(r) for r in zip(*(cpu[n] for n in torches))] if torches else []
    for n, _, _ in programs:
        w, c = wall[n], cpu[n]
        ratio_w = ratio_c = "-"
        if torches:
            ratio_w = f"{statistics.median(t / s for t, s in zip(best_wall, w)):.2f}x"
            ratio_c = f"{statistics.median(t / s for t, s in zip(best_cpu, c)):.2f}x"
        print(f"| {n} | {statistics.median(w):.0f} ({min(w):.0f}-{max(w):.0f}) | {statistics.median(c):.0f} ({min(c):.0f}) | "
              f"{flop / statistics.median(w) / 1e3:.1f} | {ratio_w} | {ratio_c} |")


if __name__ == "__main__":
    main()
