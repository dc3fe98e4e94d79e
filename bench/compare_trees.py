#!/usr/bin/env python3
"""Before and after in one sitting: the tapeless_mlp programs of two builds
(two checkouts of the project, e.g. main before and after a change) timed in
interleaved rounds beside the hand-written reference of the second, pinned to
one core. Prints, per workload, each program's median CPU time per call with
its min-max and the median of the per-round ratios to the hand-written loop,
and the median wall-clock time beside it. CPU time (the process's, std::clock
in common.hpp's driver) is what the ratios are taken on: on a shared core the
wall clock of a 0.3 s repetition also counts the time other processes ran,
which differs from process to process and from sitting to sitting
(bench/results/batch1.md). CPU time per call is also what
bench/checks/batch1_quiet.cpp's minimum of short batches estimates, so the
two measure the same thing.

    python3 bench/compare_trees.py --before OTHER/build-bench --after build-bench [--rounds 9]

Both builds need bench/peers' tapeless_mlp, handwritten_mlp and make_inputs
(meson setup build-bench -Dbench=true; meson compile -C build-bench
tapeless_mlp handwritten_mlp make_inputs). Every program first prints its
check values, which must agree, so the comparison is of the same work.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import tempfile

workloads = ["w1_train_b1", "w1_train_b32", "w1_infer_b1", "dense16_infer_b1", "dense64_infer_b1", "w2_train_b64"]

ap = argparse.ArgumentParser()
ap.add_argument("--before", required=True, help="build directory of the earlier tree")
ap.add_argument("--after", required=True, help="build directory of the later tree")
ap.add_argument("--rounds", type=int, default=9)
ap.add_argument("--seconds", type=float, default=0.3, help="per repetition")
ap.add_argument("--cpu", type=int, default=0)
args = ap.parse_args()

before = pathlib.Path(args.before) / "bench/peers"
after = pathlib.Path(args.after) / "bench/peers"
programs = {"hand-written": after / "handwritten_mlp", "tapeless before": before / "tapeless_mlp",
            "tapeless after": after / "tapeless_mlp"}
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def run(program, data, *mode):
    out = subprocess.run(["taskset", "-c", str(args.cpu), str(program), data, *mode], env=env,
                         capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()]


with tempfile.TemporaryDirectory() as data:
    subprocess.run([str(after / "make_inputs"), data], check=True, capture_output=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, program in programs.items():
        checks = {w[1]: w[2] for w in run(program, data, "check") if w[0] == "check"}
        print(f"check {name:>16}: " + ", ".join(f"{w} {checks.get(w, '-')}" for w in workloads))
    calls = {name: {w[1]: int(w[2]) for w in run(program, data, "calibrate", str(args.seconds)) if w[0] == "calls"}
             for name, program in programs.items()}
    times = {name: {w: [] for w in workloads} for name in programs}  # CPU ns per call
    walls = {name: {w: [] for w in workloads} for name in programs}
    names = list(programs)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # order rotated each round
            spec = [f"{w}={calls[name][w]}" for w in workloads if w in calls[name]]
            for line in run(programs[name], data, "time", *spec):
                if line[0] == "time":  # time <workload> <wall ns> <final value> <cpu ns>
                    walls[name][line[1]].append(float(line[2]))
                    times[name][line[1]].append(float(line[4]))
    print(f"load average after: {os.getloadavg()[0]:.2f}; {args.rounds} rounds, cpu {args.cpu}")
    print(f"{'workload':<14} {'program':<16} {'CPU ns':>12} {'min-max CPU ns':>22} {'ratio to hand':>14}"
          f" {'wall ns':>12} {'wall ratio':>11}")
    for w in workloads:
        hand = times["hand-written"][w]
        for name in names:
            t = times[name][w]
            if not t:
                continue
            ratio = statistics.median(a / b for a, b in zip(t, hand))
            wall = walls[name][w]
            wall_ratio = statistics.median(a / b for a, b in zip(wall, walls["hand-written"][w]))
            print(f"{w:<14} {name:<16} {statistics.median(t):>12.1f} {min(t):>10.1f}-{max(t):<11.1f} {ratio:>14.3f}"
                  f" {statistics.median(wall):>12.1f} {wall_ratio:>11.3f}")
