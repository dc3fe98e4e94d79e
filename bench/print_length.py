#!/usr/bin/env python3
"""Printed length of derivatives: tapeless against SymPy on the same formulas.

    /usr/bin/python3 bench/print_length.py

For the seeded formulas of tests/reference/random_formulas_large.py (about 40
and 20 nodes) and the issue's two examples, prints df/dx and d2f/dxdy (the
examples: d2f/dx2) with tl::to_string (the graph as it is),
tl::to_compact_string without and with shared subexpressions, and SymPy's
str(diff(...)) and sympy.cse of it. Lengths count characters without
whitespace, with SymPy's ** counted as ^ (notation, not content). Writes
bench/results/print_length.md.
"""
import datetime
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile

import sympy as sp

root = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(root / "tests/reference"))
import random_formulas_large as large  # noqa: E402

x, y = large.x, large.y


def formulas():
    """(label, SymPy expression, C++ text, derivative variables)."""
    rng = random.Random(large.SEED)
    second = large.draw(rng, 38, 42, 4)
    third = large.draw(rng, 19, 21, 4)
    items = []
    for family, drawn in (("40-node", second), ("20-node", third)):
        for i, (f, text, nodes) in enumerate(drawn):
            items.append((f"{family} #{i} ({nodes} nodes), df/dx", f, text, (x,)))
            items.append((f"{family} #{i} ({nodes} nodes), d2f/dxdy", f, text, (x, y)))
    sig = 1 / (1 + sp.exp(-sp.exp(sp.Rational(3, 10) * (x / (2 + x**2)))))
    items.append(("sigmoid(exp(0.3*x/(2 + x^2))), d2f/dx2", sig,
                  "tl::sigmoid(tl::exp(0.3 * (x / (2.0 + tl::square(x)))))", (x, x)))
    items.append(("x/(2 + x^2), d2f/dx2", x / (2 + x**2), "x / (2_c + tl::square(x))", (x, x)))
    return items


def measure(text):
    return len(re.sub(r"\s", "", text.replace("**", "^")))


def tapeless_texts(items):
    body = []
    for i, (_, _, text, variables) in enumerate(items):
        d = "f"
        for v in variables:
            d = f"tl::d({d}, {v})"
        body.append(f"""  {{
    const auto f = {text};
    const auto g = {d};
    std::cout << "@@@ {i} graph\\n" << tl::to_string(g) << "\\n";
    std::cout << "@@@ {i} compact\\n" << tl::to_compact_string(g, {{.share_subexpressions = false}}) << "\\n";
    std::cout << "@@@ {i} shared\\n" << tl::to_compact_string(g) << "\\n";
  }}""")
    source = ("#include <tapeless/tapeless.hpp>\n#include <iostream>\nnamespace tl = tapeless;\n"
              "using namespace tl::literals;\nint main() {\n  constexpr auto x = tl::var<\"x\">;\n"
              "  constexpr auto y = tl::var<\"y\">;\n" + "\n".join(body) + "\n}\n")
    with tempfile.TemporaryDirectory() as out:
        path = pathlib.Path(out) / "print.cpp"
        path.write_text(source)
        subprocess.run([os.environ.get("CXX", "g++"), "-std=c++20", "-O0", f"-I{root / 'include'}", str(path),
                        "-o", str(pathlib.Path(out) / "print")], check=True)
        output = subprocess.run([str(pathlib.Path(out) / "print")], check=True, capture_output=True,
                                text=True).stdout
    texts = {}
    for chunk in output.split("@@@ ")[1:]:
        header, _, text = chunk.partition("\n")
        i, kind = header.split()
        texts[int(i), kind] = text.rstrip("\n")
    return texts


def main():
    items = formulas()
    texts = tapeless_texts(items)
    rows = []
    for i, (label, f, _, variables) in enumerate(items):
        d = sp.diff(f, *variables)
        replacements, reduced = sp.cse(d)
        cse_text = "\n".join(f"{s} = {r}" for s, r in replacements) + "\n" + str(reduced[0])
        rows.append((label, measure(texts[i, "graph"]), measure(texts[i, "compact"]),
                     measure(texts[i, "shared"]), measure(str(d)), measure(cse_text)))
    lines = ["# Printed length of derivatives: tapeless against SymPy", "",
             f"Measured by bench/print_length.py on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d} "
             f"with SymPy {sp.__version__}. Characters without whitespace, SymPy's ** counted as ^. "
             "`to_string` prints the derivative's graph as a tree; `to_compact_string` collects powers "
             "and like terms, and with sharing (the default) prints a subexpression used twice once, "
             "in a `where` block; SymPy's `str` is `str(diff(f, ...))`, its `cse` `sympy.cse` of it "
             "(replacements and the reduced expression).", "",
             "| formula and derivative | tl::to_string | compact, unshared | compact, shared | "
             "SymPy str | SymPy cse | shared / cse |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, graph, compact, shared, sympy_str, sympy_cse in rows:
        lines.append(f"| {label} | {graph} | {compact} | {shared} | {sympy_str} | {sympy_cse} | "
                     f"{shared / sympy_cse:.2f} |")
    total = [sum(r[k] for r in rows) for k in range(1, 6)]
    lines.append(f"| **all {len(rows)}** | {total[0]} | {total[1]} | {total[2]} | {total[3]} | {total[4]} | "
                 f"{total[2] / total[4]:.2f} |")
    (root / "bench/results/print_length.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
