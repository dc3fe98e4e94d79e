#!/usr/bin/env python3
"""Builds and runs the whole test suite, then prints 'tests: N passed, M failed'.

N and M count Boost.Test cases, read from the XML report each test executable
writes; an executable that wrote no report (it crashed or timed out) counts as
one failed case. Usage: python3 tests/run.py [build-dir]

The build directory defaults to build/, the one the README's first command
makes: what that command compiled is reused, and a build configured without
tests is reconfigured with -Dtests=true rather than made again elsewhere.
"""
import json
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

root = pathlib.Path(__file__).resolve().parent.parent
build = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "build"


def run(*command):
    print("+", " ".join(map(str, command)), flush=True)
    return subprocess.run(command, cwd=root).returncode


def tests_enabled():
    options = json.loads(subprocess.run(["meson", "introspect", build, "--buildoptions"], cwd=root,
                                        capture_output=True, text=True).stdout or "[]")
    return any(o["name"] == "tests" and o["value"] is True for o in options)


if not (build / "build.ninja").exists():
    configured = run("meson", "setup", build, "-Dtests=true", "-Dexamples=true", "-Dbench=false")
elif not tests_enabled():
    configured = run("meson", "configure", build, "-Dtests=true")
else:
    configured = 0
if configured != 0:
    print("tests: 0 passed, 1 failed")
    sys.exit(1)
if run("meson", "compile", "-C", build) != 0:
    print("tests: 0 passed, 1 failed")
    sys.exit(1)

for stale in build.rglob("*.report.xml"):
    stale.unlink()
meson_status = run("meson", "test", "-C", build, "--print-errorlogs", "--num-processes", "2")

listed = [t["name"] for t in json.loads(subprocess.run(
    ["meson", "introspect", build, "--tests"], cwd=root, capture_output=True, text=True).stdout)]
passed = failed = 0
for name in listed:
    reports = list(build.rglob(f"{name}.report.xml"))
    if not reports:
        print(f"{name}: no report (crashed or timed out): counted as 1 failed case")
        failed += 1
        continue
    suite = ET.parse(reports[0]).getroot().find("TestSuite")
    count = lambda key: int(suite.get(key, "0"))
    passed += count("test_cases_passed")
    failed += count("test_cases_failed") + count("test_cases_aborted")

if meson_status != 0 and failed == 0:
    failed = 1  # a failing executable whose report shows no failed case
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
