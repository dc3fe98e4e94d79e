#!/usr/bin/env python3
"""Compile cost of tapeless programs: wall time, CPU time and peak memory of
compiling each workload with g++ -O2, several times, reporting the median.

    python3 bench/compile/measure.py [--repetitions 3] [--flags "-O2"] [--include DIR] [files...]

The examples as their build compiles them (but at -O2):

    python3 bench/compile/measure.py --flags "-O2 -march=native -DNDEBUG -pthread" examples/*.cpp

--include compiles against another tree's headers (a worktree of the commit
before a change), for a before/after comparison at the same load; given
several times, the trees take turns file by file and repetition by
repetition (interleaved), one row per tree.

Defaults to every .cpp in bench/compile/ and examples/fashion_mnist_mlp.cpp.
Run it on a quiet machine: compile time is CPU time, and sharing the cores
stretches the wall time (the load average is printed with the figures).
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import tempfile

root = pathlib.Path(__file__).resolve().parents[2]
parser = argparse.ArgumentParser()
parser.add_argument("--repetitions", type=int, default=3)
parser.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
parser.add_argument("--flags", default="-O2")
parser.add_argument("--include", action="append")
parser.add_argument("files", nargs="*")
args = parser.parse_args()
trees = args.include or [str(root / "include")]
files = [pathlib.Path(f) for f in args.files] or sorted((root / "bench/compile").glob("*.cpp")) + [
    root / "examples/fashion_mnist_mlp.cpp"]

print(f"load average before: {os.getloadavg()[0]:.2f}")
print(f"{'file':<32} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}   (median of {args.repetitions})")
with tempfile.TemporaryDirectory() as out:
    for f in files:
        walls, cpus, peaks = ({tree: [] for tree in trees} for _ in range(3))
        for _ in range(args.repetitions):
            for tree in trees:
                cmd = ["/usr/bin/time", "-f", "%e %U %S %M", args.compiler, "-std=c++20", *args.flags.split(),
                       f"-I{tree}", "-c", str(f), "-o", str(pathlib.Path(out) / "a.o")]
                r = subprocess.run(cmd, capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit(f"{f}: compilation failed\n{r.stderr[-2000:]}")
                wall, user, system, peak = r.stderr.strip().splitlines()[-1].split()
                walls[tree].append(float(wall)), cpus[tree].append(float(user) + float(system))
                peaks[tree].append(int(peak) / 1024)
        for tree in trees:
            label = f.name if len(trees) == 1 else f"{f.name} [{tree}]"
            print(f"{label:<32} {statistics.median(walls[tree]):8.2f} {statistics.median(cpus[tree]):8.2f} "
                  f"{statistics.median(peaks[tree]):9.0f}", flush=True)
print(f"load average after: {os.getloadavg()[0]:.2f}")
