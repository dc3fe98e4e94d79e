#!/usr/bin/env python3
"""Counts the calls a compiled batch-1 program makes inside its step.

    python3 bench/checks/batch1_calls.py               # -march=native, then AVX2 + FMA
    python3 bench/checks/batch1_calls.py --arch native

Compiles bench/checks/batch1_calls.cpp (batch-1 programs beside W2's
training step, so the translation unit is large) with g++ -O3, disassembles
the object with objdump and, for each checked entry point (batch1_w1_inference,
batch1_dense16, batch1_dense64), counts the `call` instructions in the entry
point and in every tapeless function it calls (the program's step: one
function of its own: tapeless::program<...>::run; a forward program has two,
with packed weights and without: program::pack_weights; a trainer's step is one
more, which calls the program's). The entry point may
call each step once; any other call (tail calls included), or any call inside the
step, is a failure: a kernel or a SIMD helper left out of
line; the W1 training step too (its bias updates are inlined since issue 13's
second round). Exit status 1 on failure.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE = Path(__file__).resolve().parent / "batch1_calls.cpp"
CHECKED = ["batch1_w1_inference", "batch1_dense16", "batch1_dense64", "batch1_w1_training_step"]
REPORTED = []
ARCHES = {"native": ["-march=native"], "avx2": ["-mavx2", "-mfma"]}


def functions(disassembly):
    """{symbol: [instruction lines]} from objdump -d output (relocations inline)."""
    out, name = {}, None
    for line in disassembly.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif name and line.strip():
            out[name].append(line)
    return out


def call_targets(lines):
    """The functions called, tail calls (a jmp to another symbol) included: in an
    object file a call's relocation names its target; a call to a local function
    (g++'s clone of a step, name.isra.0) has none, objdump names it <name>."""
    targets = []
    for i, line in enumerate(lines):
        m = re.search(r"\s(call|jmp)[q]?\s", line)
        if not m:
            continue
        reloc = lines[i + 1] if i + 1 < len(lines) and "R_X86_64" in lines[i + 1] else ""
        r = re.search(r"R_X86_64_\w+\s+(\S+?)(?:[-+]0x[0-9a-f]+)?$", reloc.strip())
        local = re.search(r"\s(?:call|jmp)q?\s+[0-9a-f]+ <([^+>]+)>$", line)
        if r:
            targets.append(r.group(1))
        elif local and m.group(1) == "call":
            targets.append(local.group(1))
        elif m.group(1) == "call":  # an indirect call
            targets.append(line.split("call", 1)[1].strip())
    return targets


def is_step(name):
    """A compiled program's step: tapeless::program<...>::run<...>, or g++'s local
    clone of it (name.isra.0, name.constprop.0: its calls then bind locally); or
    a small model's trainer step, tapeless::optim::trainer<...>::step<...> (a
    function of its own, flattened, that calls the program's step)."""
    program_step = name.startswith("_ZN8tapeless7programI") and "3runI" in name
    trainer_step = name.startswith("_ZN8tapeless5optim7trainerI") and "4stepI" in name
    return program_step or trainer_step


def demangle(names):
    r = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else names


def short(name, width=110):
    return name if len(name) <= width else name[:width] + "..."


def check(arch, compiler, include):
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / "batch1_calls.o"
        cmd = [compiler, "-std=c++20", "-O3", "-DNDEBUG", *ARCHES[arch], "-I", str(include), "-c",
               str(SOURCE), "-o", str(obj)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"batch1_calls: compiling failed ({' '.join(cmd)})")
        dis = subprocess.run(["objdump", "-d", "-r", "--no-show-raw-insn", str(obj)], capture_output=True,
                             text=True, check=True).stdout
    funcs = functions(dis)
    failures = 0
    print(f"{arch} ({' '.join(ARCHES[arch])}), {compiler}:")
    for entry in CHECKED + REPORTED:
        if entry not in funcs:
            print(f"  {entry}: not found in the object code")
            failures += entry in CHECKED
            continue
        outside = []  # calls that are not a step
        step_calls = []  # calls inside the steps
        steps = set()  # a forward program has two: with packed weights and without
        step_size = len(funcs[entry])
        for t in call_targets(funcs[entry]):
            if is_step(t) and t in funcs and t not in steps:
                steps.add(t)
                step_size += len(funcs[t])
                # A trainer's step may call its program's step, once.
                for u in call_targets(funcs[t]):
                    if is_step(u) and u in funcs and u not in steps:
                        steps.add(u)
                        step_size += len(funcs[u])
                        step_calls += call_targets(funcs[u])
                    else:
                        step_calls.append(u)
            else:
                outside.append(t)
        bad = outside + step_calls
        verdict = "ok" if not bad else ("FAIL" if entry in CHECKED else "reported")
        print(f"  {entry}: {len(bad)} calls out of line, {step_size} instructions: {verdict}")
        for name in demangle(bad):
            print(f"      call {short(name)}")
        if bad and entry in CHECKED:
            failures += 1
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["native", "avx2", "all"], default="all")
    ap.add_argument("--compiler", default=os.environ.get("CXX", "g++"))
    ap.add_argument("--include", default=str(ROOT / "include"), help="the tapeless headers to check (another tree's)")
    args = ap.parse_args()
    arches = ["native", "avx2"] if args.arch == "all" else [args.arch]
    failures = sum(check(a, args.compiler, args.include) for a in arches)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
