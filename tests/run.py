#!/usr/bin/env python3
"""Builds and runs the whole test suite, then prints 'tests: N passed, M failed'.

N and M count Boost.Test cases, read from the XML report each test executable
writes; an executable that wrote no report (it crashed or timed out) counts as
one failed case. Usage: python3 tests/run.py [build-dir] [--suite NAME]...

With --suite (repeatable), only the tests of those Meson suites (tests/meson.build:
'bad_input'; tests/simd/meson.build: 'simd_kernels') are compiled and run, and
only they are counted.

The build directory defaults to build/, the one the README's first command
makes: what that command compiled is reused, and a build configured without
tests is reconfigured with -Dtests=true rather than made again elsewhere.
"""
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import meson_suites

root = pathlib.Path(__file__).resolve().parent.parent
arguments = sys.argv[1:]
suites = meson_suites.take_repeated(arguments, "--suite")
if suites is None:
    print("tests/run.py: --suite needs a name")
    print("tests: 0 passed, 1 failed")
    sys.exit(1)
build = pathlib.Path(arguments[0]) if arguments else root / "build"


def run(*command):
    print("+", " ".join(map(str, command)), flush=True)
    return subprocess.run(command, cwd=root).returncode


def tests_enabled():
    return any(o["name"] == "tests" and o["value"] is True for o in meson_suites.introspect(root / build, "buildoptions"))


if not (build / "build.ninja").exists():
    configured = run("meson", "setup", build, "-Dtests=true", "-Dexamples=true", "-Dbench=false")
elif not tests_enabled():
    configured = run("meson", "configure", build, "-Dtests=true")
else:
    configured = 0
if configured != 0:
    print("tests: 0 passed, 1 failed")
    sys.exit(1)

if suites:
    # The build files regenerated first if meson.build changed, so that the list read is current.
    if run("ninja", "-C", build, "build.ninja") != 0:
        print("tests: 0 passed, 1 failed")
        sys.exit(1)
    tests = meson_suites.tests_in(root / build, suites)
    if not tests:
        print(f"tests/run.py: no test in suites {', '.join(suites)}")
        print("tests: 0 passed, 1 failed")
        sys.exit(1)
    # Only what the suites' tests depend on.
    compiled = run("ninja", "-C", build, *meson_suites.depended_files(root / build, tests))
else:
    compiled = run("meson", "compile", "-C", build)
if compiled != 0:
    print("tests: 0 passed, 1 failed")
    sys.exit(1)

for stale in build.rglob("*.report.xml"):
    stale.unlink()
selection = [word for suite in suites for word in ("--suite", suite)] + (["--no-rebuild"] if suites else [])
meson_status = run("meson", "test", "-C", build, "--print-errorlogs", "--num-processes", "2", *selection)

listed = [t["name"] for t in (tests if suites else meson_suites.introspect(root / build, "tests"))]
passed = failed = 0
for name in listed:
    reports = list(build.rglob(f"{name}.report.xml"))
    if not reports:
        print(f"{name}: no report (crashed or timed out): counted as 1 failed case")
        failed += 1
        continue
    try:
        report = ET.parse(reports[0]).getroot().find("TestSuite")
    except ET.ParseError:  # cut short: the executable was stopped while writing it (a sanitizer's report)
        report = None
    if report is None:
        print(f"{name}: report unreadable (crashed while writing it): counted as 1 failed case")
        failed += 1
        continue
    count = lambda key: int(report.get(key, "0"))
    passed += count("test_cases_passed")
    failed += count("test_cases_failed") + count("test_cases_aborted")

if meson_status != 0 and failed == 0:
    failed = 1  # a failing executable whose report shows no failed case
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
