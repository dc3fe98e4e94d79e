#!/usr/bin/env python3
"""Compile time and memory of tl::d against derivative order and formula size.

    /usr/bin/python3 bench/compile/derivative_orders.py [--sizes 10 20 30 40] [--orders 1 2 3]
        [--formulas 2] [--repetitions 2] [--flags "-O1"] [--header tapeless/symbolic.hpp]

For every (size, order) it draws --formulas seeded random formulas of x and y
of that many nodes as written (tests/reference/random_formulas.py's
generator, with log and pow; SymPy is needed only to draw them), writes a
probe that evaluates the derivative (order 1: df/dx, 2: d2f/dxdy, 3:
d3f/dx2dy) at a run-time point, and compiles it with g++ -std=c++20 --flags.
Each figure is the least over --repetitions compilations of CPU time
(user + sys) and of peak resident memory (/usr/bin/time); the cell reports the
worst formula. A probe without any derivative (the header and one evaluation)
is measured the same way, as the floor. The probes include --header
(default <tapeless/symbolic.hpp>, what scalar symbolic work needs); the
floor with <tapeless/tapeless.hpp>, the whole library, is measured too, for
comparison (a probe with the full header costs about that difference more).

Writes bench/results/derivative_orders.md (the table, with the load average
before and after) and bench/results/derivative_orders.svg (the plot, drawn
here: no plotting library is needed). CPU time is the figure to read on a
shared machine; it still grows with the load (shared caches), so compare rows
measured in one sitting. A subset of the default grid (other --sizes or
--orders) is printed, not written, unless --output names where.
"""
import argparse
import datetime
import os
import pathlib
import random
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(root / "tests/reference"))
import random_formulas as rf  # noqa: E402

SEED = 20261207
FULL_HEADER = "tapeless/tapeless.hpp"
PROBE = """#include <{header}>
namespace tl = tapeless;
using namespace tl::literals;
double probe(double u, double v) {{
  constexpr auto x = tl::var<"x">;
  constexpr auto y = tl::var<"y">;
  constexpr auto f = {formula};
  const auto g = {derivative};
  return g(x = u, y = v);
}}
"""
DERIVATIVE = {0: "f", 1: "tl::d(f, x)", 2: "tl::d(tl::d(f, x), y)", 3: "tl::d(tl::d(tl::d(f, x), x), y)"}


def draw(rng, size, count):
    """count formulas of size +- 1 nodes (as written) reading both x and y."""
    made = []
    while len(made) < count:
        f, text, nodes = rf.formula(rng, rng.randint(size - 1, size + 1) // 2, rf.UNARY_WITH_LOG_AND_POW)
        if abs(nodes - size) <= 1 and {rf.x, rf.y} <= f.free_symbols:
            made.append((text, nodes))
    return made


def compile_cost(source, args, out):
    """(CPU s, peak MiB): the least of args.repetitions compilations."""
    path = pathlib.Path(out) / "probe.cpp"
    path.write_text(source)
    cpus, peaks = [], []
    for _ in range(args.repetitions):
        cmd = ["/usr/bin/time", "-f", "%U %S %M", args.compiler, "-std=c++20", *args.flags.split(),
               f"-I{root / 'include'}", "-c", str(path), "-o", str(pathlib.Path(out) / "probe.o")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"compilation failed:\n{source}\n{r.stderr[-3000:]}")
        user, system, peak = r.stderr.strip().splitlines()[-1].split()
        cpus.append(float(user) + float(system))
        peaks.append(int(peak) / 1024)
    return min(cpus), min(peaks)


def svg_plot(results, floor, orders, sizes, path):
    """Two panels (CPU s, peak MiB) against nodes, one line per order."""
    width, height, margin = 420, 300, 50
    colours = {1: "#1f77b4", 2: "#d62728", 3: "#2ca02c"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height + 30}" '
             'font-family="sans-serif" font-size="12">', '<rect width="100%" height="100%" fill="white"/>']
    for panel, (key, label, target) in enumerate([(0, "CPU s (g++, worst formula)", {2: 5, 3: 10}),
                                                  (1, "peak MiB", {2: 500})]):
        x0 = panel * width
        top = max([results[o, s][key] for o in orders for s in sizes] + list(target.values()) + [floor[key]]) * 1.1
        sx = lambda n: x0 + margin + (n - 0) / (max(sizes) * 1.05) * (width - 1.5 * margin)
        sy = lambda v: height - margin + 20 - v / top * (height - 1.5 * margin)
        parts.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(max(sizes) * 1.05)}" y2="{sy(0)}" stroke="black"/>')
        parts.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(top)}" stroke="black"/>')
        parts.append(f'<text x="{x0 + width / 2}" y="16" text-anchor="middle">{label}</text>')
        parts.append(f'<text x="{sx(max(sizes) / 2)}" y="{height + 20}" text-anchor="middle">nodes as written</text>')
        for s in sizes:
            parts.append(f'<text x="{sx(s)}" y="{sy(0) + 15}" text-anchor="middle">{s}</text>')
        for i in range(5):
            v = top * i / 5
            parts.append(f'<text x="{sx(0) - 5}" y="{sy(v) + 4}" text-anchor="end">{v:.0f}</text>')
        parts.append(f'<line x1="{sx(0)}" y1="{sy(floor[key])}" x2="{sx(max(sizes))}" y2="{sy(floor[key])}" '
                     'stroke="gray" stroke-dasharray="2,3"/>')
        parts.append(f'<text x="{sx(max(sizes))}" y="{sy(floor[key]) - 4}" text-anchor="end" fill="gray">'
                     'header and one evaluation</text>')
        for order, value in target.items():
            parts.append(f'<line x1="{sx(0)}" y1="{sy(value)}" x2="{sx(max(sizes))}" y2="{sy(value)}" '
                         f'stroke="{colours[order]}" stroke-dasharray="6,4" opacity="0.6"/>')
            parts.append(f'<text x="{sx(0) + 4}" y="{sy(value) - 4}" fill="{colours[order]}">'
                         f'target, order {order}</text>')
        for order in orders:
            points = " ".join(f"{sx(s)},{sy(results[order, s][key])}" for s in sizes)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colours[order]}" stroke-width="2"/>')
            for s in sizes:
                parts.append(f'<circle cx="{sx(s)}" cy="{sy(results[order, s][key])}" r="3" '
                             f'fill="{colours[order]}"/>')
            s = sizes[-1]
            parts.append(f'<text x="{sx(s) + 6}" y="{sy(results[order, s][key]) + 4}" '
                         f'fill="{colours[order]}">order {order}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40])
    parser.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--formulas", type=int, default=2)
    parser.add_argument("--repetitions", type=int, default=2)
    parser.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--flags", default="-O1")
    parser.add_argument("--header", default="tapeless/symbolic.hpp",
                        help="what the probes include (default: the scalar symbolic header)")
    parser.add_argument("--output", default=None,
                        help="where to write the .md and .svg (default: bench/results/derivative_orders "
                             "for the full default grid; a subset is only printed unless given)")
    args = parser.parse_args()
    full_grid = (args.sizes, args.orders) == (parser.get_default("sizes"), parser.get_default("orders"))
    if args.output is None and full_grid:
        args.output = str(root / "bench/results/derivative_orders")

    rng = random.Random(SEED)
    formulas = {s: draw(rng, s, args.formulas) for s in args.sizes}
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    results = {}
    with tempfile.TemporaryDirectory() as out:
        first = formulas[args.sizes[0]][0][0]
        floor = compile_cost(PROBE.format(header=args.header, formula=first, derivative="f"), args, out)
        print(f"floor (no derivative), {args.header}: {floor[0]:.2f} s {floor[1]:.0f} MiB", flush=True)
        full_floor = floor
        if args.header != FULL_HEADER:
            full_floor = compile_cost(PROBE.format(header=FULL_HEADER, formula=first, derivative="f"), args, out)
            print(f"floor (no derivative), {FULL_HEADER}: {full_floor[0]:.2f} s {full_floor[1]:.0f} MiB",
                  flush=True)
        for order in args.orders:
            for s in args.sizes:
                costs = [compile_cost(PROBE.format(header=args.header, formula=text,
                                                   derivative=DERIVATIVE[order]), args, out)
                         for text, _ in formulas[s]]
                results[order, s] = (max(c[0] for c in costs), max(c[1] for c in costs))
                print(f"order {order}, {s} nodes: " + ", ".join(f"{c[0]:.2f} s {c[1]:.0f} MiB" for c in costs),
                      flush=True)
    load_after = os.getloadavg()

    output = pathlib.Path(args.output or "derivative_orders")
    lines = [f"# Compile cost of derivatives by order and formula size",
             "",
             f"Measured by bench/compile/derivative_orders.py on {started:%Y-%m-%d %H:%M} UTC: "
             f"{args.compiler} -std=c++20 {args.flags}, probes including <{args.header}>, "
             f"{args.formulas} seeded formulas (seed {SEED}) "
             f"per cell, each the least of {args.repetitions} compilations; a cell is its worst formula. "
             f"Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (CPU time, not wall "
             "time, but it still grows with the load).",
             "",
             f"Floor (the header and one evaluation, no derivative): {floor[0]:.2f} s, {floor[1]:.0f} MiB; "
             f"with <{FULL_HEADER}> instead: {full_floor[0]:.2f} s, {full_floor[1]:.0f} MiB (a probe "
             "including the whole library costs about the difference more).",
             "",
             "| order | " + " | ".join(f"{s} nodes: CPU s" for s in args.sizes) + " | "
             + " | ".join(f"{s} nodes: MiB" for s in args.sizes) + " |",
             "|---:|" + "---:|" * (2 * len(args.sizes))]
    for order in args.orders:
        lines.append(f"| {order} | " + " | ".join(f"{results[order, s][0]:.2f}" for s in args.sizes) + " | "
                     + " | ".join(f"{results[order, s][1]:.0f}" for s in args.sizes) + " |")
    lines += ["", f"![compile time and memory by order and size]({output.name}.svg)", ""]
    print("\n".join(lines))
    if args.output is None:
        # A subset must not replace the committed table of the whole grid.
        print("(a subset of the grid: not written; --output PATH writes it)")
        return
    output.with_suffix(".md").write_text("\n".join(lines))
    svg_plot(results, floor, args.orders, args.sizes, output.with_suffix(".svg"))


if __name__ == "__main__":
    main()
