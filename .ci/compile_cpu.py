#!/usr/bin/env python3
"""CPU time (user + sys) and peak memory of compiling each translation unit of
a configured build, one at a time, with the build's own commands: what CI's
compile steps cost, independent of how loaded the machine is.

  python3 .ci/compile_cpu.py build-clang                # every C++ file
  python3 .ci/compile_cpu.py build-clang nn/ gradients  # files whose path has one of these

Prints one line per file, largest first, then the total. Objects are written
to a temporary directory, so the build itself is left as it was.
"""
import json
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile
import time

if len(sys.argv) < 2:
    sys.exit(__doc__)
build = pathlib.Path(sys.argv[1]).resolve()
filters = sys.argv[2:]
database = json.loads(subprocess.run(["ninja", "-C", build, "-t", "compdb"], capture_output=True, text=True,
                                     check=True).stdout)
entries = [e for e in database if e["file"].endswith(".cpp") and (not filters or any(f in e["file"] for f in filters))]
rows = []
with tempfile.TemporaryDirectory() as scratch:
    for n, entry in enumerate(entries):
        command = shlex.split(entry["command"])
        at = command.index("-o")
        command[at + 1] = os.path.join(scratch, f"{n}.o")
        # No dependency files: they would go into the build.
        kept, skip = [], False
        for c in command:
            if skip or c == "-MD":
                skip = False
                continue
            skip = c in ("-MQ", "-MF")
            if not skip:
                kept.append(c)
        command = kept
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=entry["directory"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        cpu = usage.ru_utime + usage.ru_stime
        rows.append((cpu, wall, usage.ru_maxrss / 1024, entry["file"], os.waitstatus_to_exitcode(status)))
        print(f"{cpu:8.1f} s CPU {wall:8.1f} s wall {usage.ru_maxrss / 1024:7.0f} MB  {entry['file']}"
              + ("" if rows[-1][4] == 0 else "  (FAILED)"), flush=True)
print("--- largest first")
for cpu, wall, memory, name, code in sorted(rows, reverse=True):
    print(f"{cpu:8.1f} s CPU {wall:8.1f} s wall {memory:7.0f} MB  {name}")
print(f"total: {sum(r[0] for r in rows):.0f} s CPU over {len(rows)} files; load average {os.getloadavg()[0]:.1f}")
