#!/usr/bin/env python3
"""Compile cost of plain numbers against exact constants in a reused
subexpression (issue 14), with and without tl::share_numbers.

    python3 bench/compile/shared_numbers.py [--repetitions 2] [--timeout 300] [--flags "-O1"]

Compiles bench/compile/reused_numbers.cpp for each case (formula, depth,
derivative order) with its numbers written as exact constants, as plain
numbers, and as plain numbers through tl::share_numbers<f>() (by value),
interleaving the three, and prints a Markdown table: the least CPU time (user + sys) and peak
resident memory over --repetitions, and the ratio to exact constants. Plain
numbers are compiled with the sharing guard raised
(-DTAPELESS_MAX_UNSHARED_NODES=100000), to show what the guard prevents; a
compilation over --timeout seconds is stopped and reported as such. The load
average is printed before and after: read CPU time, not wall time, on a
shared machine.
"""
import argparse
import os
import pathlib
import subprocess
import tempfile

root = pathlib.Path(__file__).resolve().parents[2]
probe = root / "bench/compile/reused_numbers.cpp"
parser = argparse.ArgumentParser()
parser.add_argument("--repetitions", type=int, default=2)
parser.add_argument("--timeout", type=float, default=300)
parser.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
parser.add_argument("--flags", default="-O1")
parser.add_argument("--cases", nargs="*", default=["0:4:2", "0:8:2", "1:3:2", "1:4:1", "1:4:2"],
                    help="formula:depth:order (formula 0 logistic map, 1 nested quotients)")
args = parser.parse_args()
NAMES = {0: "logistic map", 1: "nested quotients"}
VARIANTS = {0: "exact", 1: "plain", 2: "shared by value"}


def compile_once(formula, depth, order, numbers, out):
    cmd = ["/usr/bin/time", "-f", "%U %S %M", args.compiler, "-std=c++20", *args.flags.split(),
           f"-I{root / 'include'}", f"-DFORMULA={formula}", f"-DDEPTH={depth}", f"-DORDER={order}",
           f"-DNUMBERS={numbers}", "-DTAPELESS_MAX_UNSHARED_NODES=100000", "-c", str(probe), "-o", out]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0 and "static assertion failed" in r.stderr:
        return "guard"  # refused with one message, the first check of tl::d's guard
    if r.returncode != 0:
        raise SystemExit(f"compilation failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    user, system, peak = r.stderr.strip().splitlines()[-1].split()
    return float(user) + float(system), int(peak) / 1024


print(f"load average before: {os.getloadavg()[0]:.2f}")
best = {}
with tempfile.TemporaryDirectory() as tmp:
    out = str(pathlib.Path(tmp) / "probe.o")
    for _ in range(args.repetitions):
        for case in args.cases:
            formula, depth, order = (int(v) for v in case.split(":"))
            for numbers in VARIANTS:
                key = (formula, depth, order, numbers)
                if best.get(key, 0) is None or best.get(key) == "guard":
                    continue  # timed out or refused once: not again
                r = compile_once(formula, depth, order, numbers, out)
                if r is None or r == "guard":
                    best[key] = r
                elif key not in best:
                    best[key] = r
                else:
                    best[key] = (min(best[key][0], r[0]), min(best[key][1], r[1]))
print(f"load average after: {os.getloadavg()[0]:.2f}")
print()
print("| formula | depth | order | exact: CPU s, MiB | plain: CPU s, MiB | shared by value: CPU s, MiB "
      "| plain / exact | shared / exact |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")


def cell(r):
    if r == "guard":
        return "refused by the guard"
    return f"> {args.timeout:.0f} s (stopped)" if r is None else f"{r[0]:.2f} s, {r[1]:.0f}"


def ratio(r, e):
    return "" if r in (None, "guard") or e in (None, "guard") else f"{r[0] / e[0]:.2f}x"


for case in args.cases:
    formula, depth, order = (int(v) for v in case.split(":"))
    e, p, s = (best[(formula, depth, order, n)] for n in VARIANTS)
    print(f"| {NAMES[formula]} | {depth} | {order} | {cell(e)} | {cell(p)} | {cell(s)} | {ratio(p, e)} | {ratio(s, e)} |")
