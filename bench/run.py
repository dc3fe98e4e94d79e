#!/usr/bin/env python3
"""Builds and runs tapeless's side-by-side benchmark suite (bench/README.md).

    python3 bench/run.py                 # build, check, time, write bench/results.{md,csv}
    python3 bench/run.py --quick         # a quick look: 3 rounds of 0.05 s
    python3 bench/run.py --rounds 15 --seconds 0.5 --cpu 0
    python3 bench/run.py --groups sequence --no-compile-cost   # W6 and the streaming layers only

Every implementation is a program in bench/peers/ that reads the same weights
and data (written by make_inputs). The suite
  1. configures and builds a bench build directory (nice'd);
  2. checks that every implementation computes the same thing: the loss after
     10 updates (W1, W2), the output for one sample (W1 inference), a gradient
     checksum (W3), compared with the hand-written reference;
  3. calibrates each program so one repetition lasts about --seconds;
  4. takes --rounds rounds; in each, every program runs once pinned to --cpu
     (taskset), the order rotating from round to round, plus the FMA peak loop;
  5. times the compilation of two files with g++ -O2 (W4);
  6. prints one table and writes bench/results.md and bench/results.csv.
Ratios are taken round by round (implementation / hand-written), then the
median over the rounds.
"""

import argparse
import csv
import datetime
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (implementation name, program in bench/peers, extra environment)
MLP_PROGRAMS = [
    ("hand-written", "handwritten_mlp", {}),
    ("tapeless", "tapeless_mlp", {}),
    ("Eigen, hand backprop", "eigen_mlp", {}),
    ("libtorch", "torch_mlp", {}),
    ("dlib", "dlib_mlp", {}),
]
SCALAR_PROGRAMS = [
    ("hand-coded", "scalar_hand", {}),
    ("tapeless (tensor form)", "scalar_tapeless", {}),
    ("tapeless (scalar form)", "scalar_tapeless_vars", {}),
    ("ADOL-C", "scalar_adolc", {}),
]
# W6 and the streaming layers (bench/peers/sequence_inputs.hpp): against libtorch, the
# hand-written streaming loops being in bench/streaming/recurrent_latency.cpp.
SEQUENCE_PROGRAMS = [
    ("libtorch", "torch_sequence", {}),
    ("tapeless", "tapeless_sequence", {}),
]
GROUPS = [("mlp", MLP_PROGRAMS), ("scalar", SCALAR_PROGRAMS), ("sequence", SEQUENCE_PROGRAMS)]
REFERENCE = {"mlp": "hand-written", "scalar": "hand-coded", "sequence": "libtorch"}

W2_FLOP = 2.0 * 64 * (3.0 * (784 * 256 + 256 * 128 + 128 * 10) - 784 * 256)  # common.hpp

WORKLOAD_TEXT = {
    "w1_train_b1": "W1 train step, batch 1",
    "w1_train_b32": "W1 train step, batch 32",
    "w1_infer_b1": "W1 inference, batch 1",
    "dense16_infer_b1": "dense 16x16, batch 1",
    "dense64_infer_b1": "dense 64x64, batch 1",
    "w2_train_b64": "W2 train step, batch 64",
    "w6_lstm_train_b64": "W6 LSTM-128 sequence classifier train step, batch 64",
    "stream_gru8": "GRU-8, one streamed sample",
    "stream_gru16": "GRU-16, one streamed sample",
    "stream_lstm16": "LSTM-16, one streamed sample",
    "stream_lstm32": "LSTM-32, one streamed sample",
}
# RTNeural's published per-sample figures (i7-8700B, xsimd), ns.
RTNEURAL_NS = {"stream_gru8": 106, "stream_gru16": 219, "stream_lstm16": 332, "stream_lstm32": 1035}

W3_FUNCTIONS = ["sum", "product", "logsumexp", "normal"]
W3_TEXT = {"sum": "sum", "product": "product", "logsumexp": "log-sum-exp", "normal": "normal log-density"}
for _f in W3_FUNCTIONS:
    for _n in (10, 100, 1000):
        WORKLOAD_TEXT[f"w3_{_f}_n{_n}"] = f"W3 {W3_TEXT[_f]}, n = {_n}"

# Check tolerance: relative difference of the check value from the reference.
TOLERANCE = {"mlp": 1e-4, "scalar": 1e-9, "sequence": 1e-4}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, env=None, cwd=None, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def build(build_dir):
    nice = ["nice", "-n", "10"]
    if not (build_dir / "build.ninja").exists():
        log(f"configuring {build_dir.name}")
        run(nice + ["meson", "setup", str(build_dir), "-Dbench=true", "-Dtests=false", "-Dexamples=false"], cwd=ROOT)
    log(f"building {build_dir.name} (nice'd; the first build takes a few minutes)")
    r = run(nice + ["meson", "compile", "-C", str(build_dir)], cwd=ROOT, check=False)
    if r.returncode != 0:
        raise RuntimeError("build failed:\n" + r.stdout[-4000:] + r.stderr[-4000:])


def bench_env(extra):
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(extra)
    return env


def parse(stdout, tag):
    out = {}
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] == tag:
            out[f[1]] = [float(v) for v in f[2:]]
    return out


def fma_peak(build_dir, cpu):
    exe = build_dir / "bench" / "kernels" / "kernels_fma_peak"
    if not exe.exists():
        return None
    env = bench_env({"TAPELESS_BENCH_REPETITIONS": "1", "TAPELESS_BENCH_SECONDS": "0.2"})
    r = run(["taskset", "-c", str(cpu), str(exe)], env=env)
    lines = [l for l in r.stdout.splitlines() if l.startswith("  ")]
    m = re.match(r"\s+(\S+)\s+([\d.]+)", lines[0]) if lines else None
    return (m.group(1), float(m.group(2))) if m else None


def summary(xs):
    xs = sorted(xs)
    return statistics.median(xs), xs[0], xs[-1]


def compile_cost(cpu, repetitions):
    """W4: wall and CPU (user + sys) seconds and peak KiB of g++ -O2 on two files (medians)."""
    time_bin = shutil.which("time") or "/usr/bin/time"
    files = [("w4_compile_fashion_mnist", "examples/fashion_mnist_mlp.cpp"),
             ("w4_compile_mlp10", "bench/compile/mlp10_training.cpp")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in files:
            walls, cpus, mems = [], [], []
            for _ in range(repetitions):
                cmd = ["taskset", "-c", str(cpu), time_bin, "-f", "%e %U %S %M", "g++", "-std=c++20", "-O2",
                       "-DNDEBUG", "-Iinclude", "-c", src, "-o", str(Path(tmp) / "out.o")]
                r = run(cmd, cwd=ROOT)
                wall, user, sys_, mem = r.stderr.strip().splitlines()[-1].split()
                walls.append(float(wall))
                cpus.append(float(user) + float(sys_))
                mems.append(int(mem))
            results[name] = (src, summary(walls), statistics.median(mems), statistics.median(cpus))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build-bench", help="relative to the repository root")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--seconds", type=float, default=0.3, help="per repetition")
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="3 rounds of 0.05 s, one compile each")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-compile-cost", action="store_true", help="skip W4")
    ap.add_argument("--compile-repetitions", type=int, default=3)
    ap.add_argument("--out", default=None,
                    help="where results.md and results.csv go (default: bench/ of the repository; "
                         "a relative path is from the current directory)")
    ap.add_argument("--groups", default="mlp,scalar,sequence",
                    help="which workloads, comma-separated: mlp (W1, W2), scalar (W3), sequence (W6, streaming)")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.compile_repetitions = 3, 0.05, 1

    build_dir = (ROOT / args.build_dir).resolve()
    if not args.no_build:
        build(build_dir)
    peers_dir = build_dir / "bench" / "peers"
    data_dir = peers_dir / "data"
    data_dir.mkdir(exist_ok=True)
    run([str(peers_dir / "make_inputs"), str(data_dir)])

    programs = []  # (group, name, exe, env)
    groups = [(g, t) for g, t in GROUPS if g in args.groups.split(",")]
    for group, table in groups:
        for name, prog, extra in table:
            exe = peers_dir / prog
            if exe.exists():
                programs.append((group, name, exe, bench_env(extra)))
    absent = [n for g, t in groups for n, p, _ in t
              if not (peers_dir / p).exists()]
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)

    # Same computation?
    checks = {}  # (group, workload) -> {impl: value}
    for group, name, exe, env in programs:
        log(f"check {name} ({exe.name})")
        for w, v in parse(run(["taskset", "-c", str(args.cpu), str(exe), str(data_dir), "check"], env=env).stdout,
                          "check").items():
            checks.setdefault((group, w), {})[name] = v[0]

    # Calibrate.
    calls = {}
    for group, name, exe, env in programs:
        log(f"calibrate {name}")
        r = run(["taskset", "-c", str(args.cpu), str(exe), str(data_dir), "calibrate", str(args.seconds)], env=env)
        calls[name, group] = {w: int(v[0]) for w, v in parse(r.stdout, "calls").items()}

    # Interleaved rounds.
    times = {}  # (group, workload, impl) -> [ns per call by round]
    finals = {}
    peaks = []
    for rnd in range(args.rounds):
        order = programs[rnd % len(programs):] + programs[:rnd % len(programs)]
        log(f"round {rnd + 1}/{args.rounds}, load {os.getloadavg()[0]:.2f}")
        p = fma_peak(build_dir, args.cpu)
        if p:
            peaks.append(p)
        for group, name, exe, env in order:
            spec = [f"{w}={n}" for w, n in calls[name, group].items()]
            r = run(["taskset", "-c", str(args.cpu), str(exe), str(data_dir), "time", *spec], env=env)
            for w, v in parse(r.stdout, "time").items():
                times.setdefault((group, w, name), []).append(v[0])
                finals[group, w, name] = v[1]
    load_after = os.getloadavg()

    w4 = {} if args.no_compile_cost else compile_cost(args.cpu, args.compile_repetitions)
    load_end = os.getloadavg()

    # Rows.
    rows = []
    for (group, w, name), ts in times.items():
        ref = REFERENCE[group]
        ref_ts = times.get((group, w, ref))
        ratios = [a / b for a, b in zip(ts, ref_ts)] if ref_ts else []
        med, lo, hi = summary(ts)
        ratio = statistics.median(ratios) if ratios else float("nan")
        ratio_range = (min(ratios), max(ratios)) if ratios else (float("nan"),) * 2
        ck = checks.get((group, w), {})
        ref_v, v = ck.get(ref), ck.get(name)
        if ref_v is None or v is None:
            rel, agrees = float("nan"), False
        else:
            rel = abs(v - ref_v) / max(abs(ref_v), 1e-30)
            agrees = rel <= TOLERANCE[group] and math.isfinite(finals[group, w, name])
        rows.append(dict(group=group, workload=w, impl=name, median=med, min=lo, max=hi, ratio=ratio,
                         ratio_lo=ratio_range[0], ratio_hi=ratio_range[1], check=v, rel=rel, agrees=agrees))
    impl_rank = {n: i for i, (n, _, _) in enumerate(MLP_PROGRAMS + SCALAR_PROGRAMS + SEQUENCE_PROGRAMS)}
    group_rank = {g: i for i, (g, _) in enumerate(GROUPS)}
    def workload_key(w):
        m = re.match(r"w3_(\w+)_n(\d+)$", w)
        return (W3_FUNCTIONS.index(m.group(1)), int(m.group(2))) if m else (list(WORKLOAD_TEXT).index(w), 0)

    rows.sort(key=lambda r: (group_rank[r["group"]], workload_key(r["workload"]), impl_rank[r["impl"]]))

    peak_name = peaks[0][0] if peaks else "?"
    peak = summary([p[1] for p in peaks]) if peaks else None

    def t_of(w, impl, group="mlp"):
        for r in rows:
            if r["workload"] == w and r["impl"] == impl and r["group"] == group:
                return r
        return None

    def fmt_ns(ns):
        if ns >= 1e6:
            return f"{ns / 1e3:.0f} us"
        if ns >= 1e3:
            return f"{ns / 1e3:.2f} us"
        return f"{ns:.1f} ns"

    # ---- the markdown -------------------------------------------------------
    md = []
    md.append("# tapeless side by side: results\n")
    md.append("Written by `python3 bench/run.py` (bench/README.md says what each workload and "
              "implementation is). Times per call: median (min-max) over the interleaved rounds; the ratio is "
              "time / hand-written time, taken round by round (below 1: faster than the hand-written reference).\n")
    cpu_model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        flags = open("/proc/cpuinfo").read()
        simd = "AVX-512" if "avx512f" in flags else ("AVX2+FMA" if "avx2" in flags else "no AVX2")
    except OSError:
        simd = "?"
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gxx = run(["g++", "--version"]).stdout.splitlines()[0]
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=False).stdout.strip() or "?"
    dirty = run(["git", "status", "--porcelain", "--", "include"], cwd=ROOT, check=False).stdout.strip()
    md.append("## Machine and run\n")
    md.append(f"- {started:%Y-%m-%d %H:%M} UTC; commit {commit}{' (include/ modified)' if dirty else ''}.")
    md.append(f"- CPU: {cpu_model}, {os.cpu_count()} logical CPUs, {simd}, {mem_gib:.0f} GiB; "
              f"{platform.system()} {platform.release()}; {gxx}.")
    md.append(f"- Build: Meson buildtype=release, the suite's programs at -O3 -march=native; one thread "
              f"(OMP/OPENBLAS_NUM_THREADS=1, torch::set_num_threads(1)), pinned with `taskset -c {args.cpu}`. "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE') or '(unset: auto-detected)'}.")
    md.append(f"- Load average (1, 5, 15 min): {load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} "
              f"before; {load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after the rounds; "
              f"{load_end[0]:.2f} at the end.")
    if peak:
        md.append(f"- FMA peak loop (`kernels_fma_peak`, {peak_name}), once per round: "
                  f"{peak[0]:.1f} ({peak[1]:.1f}-{peak[2]:.1f}) GFLOP/s. \"% of peak\" below is the best round's GFLOP/s over the best round of the peak loop.")
    md.append(f"- {args.rounds} rounds of about {args.seconds} s per workload and implementation; "
              f"order rotated each round. Command: `python3 bench/run.py"
              f"{' --quick' if args.quick else ''}"
              f"{'' if args.quick or args.rounds == 9 else f' --rounds {args.rounds}'}"
              f"{'' if args.quick or args.seconds == 0.3 else f' --seconds {args.seconds}'}"
              f"{'' if args.groups == 'mlp,scalar,sequence' else f' --groups {args.groups}'}"
              f"{'' if args.cpu == 0 else f' --cpu {args.cpu}'}`.")
    if absent:
        md.append(f"- Not built (package absent): {', '.join(absent)}.")
    md.append("")

    def table(group, title, extra_w2=False):
        md.append(f"## {title}\n")
        head = "| workload | implementation | time per call | ratio to reference | check value | rel. diff. |"
        sep = "|---|---|---:|---:|---:|---:|"
        if extra_w2:
            head += " samples/s | GFLOP/s | % of peak |"
            sep += "---:|---:|---:|"
        md.append(head)
        md.append(sep)
        for r in rows:
            if r["group"] != group:
                continue
            mark = "" if r["agrees"] else " **(disagrees)**"
            line = (f"| {WORKLOAD_TEXT.get(r['workload'], r['workload'])} | {r['impl']}{mark} | "
                    f"{fmt_ns(r['median'])} ({fmt_ns(r['min'])}-{fmt_ns(r['max'])}) | "
                    f"{r['ratio']:.2f} ({r['ratio_lo']:.2f}-{r['ratio_hi']:.2f}) | "
                    f"{r['check']:.9g} | {r['rel']:.1e} |")
            if extra_w2:
                if r["workload"].startswith("w2"):
                    # The peak loop shares the core's slowdowns: the best round of each is the
                    # closest to a quiet core, so % of peak is best GFLOP/s over best peak.
                    gf, best = W2_FLOP / r["median"], W2_FLOP / r["min"]
                    pct = f"{100 * best / peak[2]:.0f}%" if peak else "?"
                    line += f" {64e9 / r['median']:.0f} | {gf:.1f} (best {best:.1f}) | {pct} |"
                else:
                    line += " | | |"
            md.append(line)
        md.append("")

    if any(r["group"] == "mlp" for r in rows):
        table("mlp", "W1 and W2: training steps and inference (float32)", extra_w2=True)
    if any(r["group"] == "scalar" for r in rows):
        table("scalar", "W3: scalar AD gradients (float64)")
    if any(r["group"] == "sequence" for r in rows):
        table("sequence", "W6 and streaming recurrent layers against libtorch (float32; ratio: time / libtorch's)")
    if w4:
        md.append("## W4: compile cost (g++ -O2, one file, compile only)\n")
        md.append("Pinned to the benchmark core; under load the wall time stretches, the CPU time "
                  "(user + sys) is what a quiet core would take.\n")
        md.append("| file | wall s, median (min-max) | CPU s | peak memory MiB |")
        md.append("|---|---:|---:|---:|")
        for name, (src, (med, lo, hi), mem, cpu_s) in w4.items():
            md.append(f"| `{src}` | {med:.1f} ({lo:.1f}-{hi:.1f}) | {cpu_s:.1f} | {mem / 1024:.0f} |")
        md.append("")

    # Targets.
    md.append("## Targets (issues 5, 12 and 13)\n")

    def verdict(ok):
        return "met" if ok else "**not met**"

    for w in ("w1_train_b1", "w1_train_b32"):
        tl, hw, tt = t_of(w, "tapeless"), t_of(w, "hand-written"), t_of(w, "libtorch")
        if tl and hw:
            s = f"- {WORKLOAD_TEXT[w]}: tapeless / hand-written = {tl['ratio']:.2f} (target <= 1.1: {verdict(tl['ratio'] <= 1.1)})"
            if tt:
                sp = tt["median"] / tl["median"]
                s += f"; libtorch / tapeless = {sp:.1f}x (target >= 20x: {verdict(sp >= 20)})"
            md.append(s + ".")
    tl, hw, tt = t_of("w2_train_b64", "tapeless"), t_of("w2_train_b64", "hand-written"), t_of("w2_train_b64", "libtorch")
    if tl and hw:
        s = (f"- W2: hand-written / tapeless = {1 / tl['ratio']:.2f}x (target >= 1.0x: {verdict(tl['ratio'] <= 1.0)})")
        if tt:
            sp = tt["median"] / tl["median"]
            s += f"; libtorch / tapeless = {sp:.2f}x (target >= 1.5x: {verdict(sp >= 1.5)})"
        md.append(s + ".")
    # Issue 13: batch-1 latency.
    for w in ("w1_infer_b1", "w1_train_b1"):
        tl = t_of(w, "tapeless")
        if tl:
            md.append(f"- {WORKLOAD_TEXT[w]} (issue 13): tapeless / hand-written = {tl['ratio']:.2f} "
                      f"(target <= 1.0: {verdict(tl['ratio'] <= 1.0)}).")
    tl = t_of("dense16_infer_b1", "tapeless")
    if tl:
        md.append(f"- Dense 16x16 at batch 1 (issue 13): {tl['median']:.1f} ns per call "
                  f"(target <= 5 ns: {verdict(tl['median'] <= 5.0)}).")
    # Issue 12: sequences.
    tl, tt = t_of("w6_lstm_train_b64", "tapeless", "sequence"), t_of("w6_lstm_train_b64", "libtorch", "sequence")
    if tl and tt:
        md.append(f"- W6 (issue 12): libtorch / tapeless = {1 / tl['ratio']:.2f}x "
                  f"(target >= 2x: {verdict(tl['ratio'] <= 0.5)}).")
    for w, ns in RTNEURAL_NS.items():
        tl = t_of(w, "tapeless", "sequence")
        if tl:
            md.append(f"- {WORKLOAD_TEXT[w]} (issue 12): {tl['median']:.0f} ns, RTNeural's published {ns} ns "
                      f"(faster: {verdict(tl['median'] < ns)}); libtorch / tapeless = {1 / tl['ratio']:.0f}x.")
    scal = [r for r in rows if r["group"] == "scalar" and r["impl"].startswith("tapeless")]
    if scal:
        worst = max(scal, key=lambda r: r["ratio"])
        ok = [r for r in scal if r["ratio"] <= 1.2]
        s = (f"- W3: tapeless within 1.2x of hand-coded in {len(ok)} of {len(scal)} rows "
             f"(worst {worst['workload']}, {worst['ratio']:.2f}: {verdict(len(ok) == len(scal))})")
        ad = {r["workload"]: r for r in rows if r["group"] == "scalar" and r["impl"] == "ADOL-C"}
        if ad:
            faster = [r for r in scal if r["workload"] in ad and r["median"] < ad[r["workload"]]["median"]]
            s += f"; faster than ADOL-C in {len(faster)} of {len([r for r in scal if r['workload'] in ad])} rows"
            s += f" ({verdict(len(faster) == len([r for r in scal if r['workload'] in ad]))})"
        md.append(s + ".")
    if "w4_compile_fashion_mnist" in w4:
        med, cpu_s = w4["w4_compile_fashion_mnist"][1][0], w4["w4_compile_fashion_mnist"][3]
        md.append(f"- W4: the Fashion-MNIST example compiles in {med:.1f} s wall, {cpu_s:.1f} s CPU "
                  f"(target < 20 s: {verdict(med < 20)} on wall time, {verdict(cpu_s < 20)} on CPU time).")
    md.append("")
    text = "\n".join(md)

    out_dir = ROOT / "bench" if args.out is None else Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.md").write_text(text)
    with open(out_dir / "results.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["workload", "implementation", "median_ns", "min_ns", "max_ns", "ratio_to_reference"])
        for r in rows:
            wr.writerow([r["workload"], r["impl"], f"{r['median']:.1f}", f"{r['min']:.1f}", f"{r['max']:.1f}",
                         f"{r['ratio']:.4f}"])
        for name, (src, (med, lo, hi), mem, cpu_s) in w4.items():
            wr.writerow([name, "tapeless (g++ -O2)", f"{med * 1e9:.0f}", f"{lo * 1e9:.0f}", f"{hi * 1e9:.0f}", ""])
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
