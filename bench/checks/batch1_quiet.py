#!/usr/bin/env python3
"""Batch-1 latency, quiet-core estimate, before and after: builds
bench/checks/batch1_quiet.cpp against one or more trees of tapeless headers,
runs the binaries in interleaved rounds pinned to one core, and prints per
workload the median over rounds of each binary's minimum (ns per call) and
of its ratio to the comparison it is printed beside, with the load average.

    python3 bench/checks/batch1_quiet.py                         # this tree
    python3 bench/checks/batch1_quiet.py --tree before=OTHER/include --tree after=include --rounds 5
    python3 bench/checks/batch1_quiet.py --arch avx2             # -mavx2 -mfma instead of -march=native

Each binary prints its check values first (tapeless and the hand-written
loops start from the same weights); they are shown once per binary.
"""
import argparse
import collections
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SOURCE = ROOT / "bench/checks/batch1_quiet.cpp"
ARCHES = {"native": ["-march=native"], "avx2": ["-mavx2", "-mfma"]}
LINE = re.compile(r"^(.+?)\s+([\d.]+) \(\s*([\d.]+)\)\s+(.+?)\s+([\d.]+) \(\s*([\d.]+)\)\s+ratio ([\d.]+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", default=[], help="name=include directory (repeatable)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=2000)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--arch", choices=list(ARCHES), default="native")
    ap.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
    args = ap.parse_args()
    trees = dict(t.split("=", 1) for t in args.tree) or {"this tree": str(ROOT / "include")}

    with tempfile.TemporaryDirectory() as tmp:
        binaries = {}
        for name, include in trees.items():
            exe = pathlib.Path(tmp) / f"batch1_quiet_{len(binaries)}"
            cmd = [args.compiler, "-std=c++20", "-O3", "-DNDEBUG", *ARCHES[args.arch], "-I", include,
                   "-I", str(ROOT / "bench"), str(SOURCE), "-o", str(exe)]
            print(f"building {name}: {' '.join(cmd)}", flush=True)
            subprocess.run(cmd, check=True)
            binaries[name] = exe
        best = collections.defaultdict(list)  # (binary, workload) -> minimum per round
        ratio = collections.defaultdict(list)  # (binary, workload) -> ratio to its comparison per round
        loads = []
        names = list(binaries)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                out = subprocess.run(["taskset", "-c", str(args.cpu), str(binaries[name]), str(args.batches)],
                                     capture_output=True, text=True, check=True).stdout
                loads.append(os.getloadavg()[0])
                for line in out.splitlines():
                    if r == 0 and line.startswith("check"):
                        print(f"{name}: {line}")
                    m = LINE.match(line)
                    if m:
                        best[name, m.group(1)].append(float(m.group(2)))
                        best[name, m.group(4)].append(float(m.group(5)))
                        ratio[name, m.group(1)].append(float(m.group(7)))
        print(f"\nload average {min(loads):.1f}-{max(loads):.1f}; {args.rounds} rounds of {args.batches} batches, "
              f"cpu {args.cpu}, {args.arch}; median over rounds of the minimum, ns per call")
        workloads = list(dict.fromkeys(w for (_, w) in best))
        print(f"{'workload':<24}" + "".join(f"{n:>18}" for n in names) + "   ratio to the one beside it")
        for w in workloads:
            cells = "".join(f"{statistics.median(best[n, w]):>18.2f}" if best[n, w] else f"{'-':>18}" for n in names)
            ratios = "  ".join(f"{statistics.median(ratio[n, w]):.3f}" for n in names if ratio[n, w])
            print(f"{w:<24}{cells}   {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
