#!/usr/bin/env python3
"""clang++ 14 reads every test and example file of the suite.

Each file is parsed and its templates instantiated (-fsyntax-only: no code
generated) with exactly the flags a clang build of the suite gives it: the
commands come from the compile_commands.json of a build directory configured
with CXX=clang++, and the files that read the library precompiled read
clang's precompiled header, made first. So a construct only g++ accepts
fails in every CI run, wherever it sits, without the minutes of a second
full build: the opt-in clang suite (.ci/run, TAPELESS_CI_CLANG=1) builds and
runs the same files with sanitizers. What this cannot see is what only code
generation or running shows.

The headers-alone units (tests/static) are left to the g++ build: whether a
header includes what it uses is the same question for both compilers, which
read one standard library.

Usage: python3 tests/clang_front_end.py [build-dir] [--skip-suite NAME]...
(default build directory: build-clang-front-end). --skip-suite leaves out the
files of that Meson suite's executables: CI compiles and runs those in the
same build (tests/run.py --suite), which reads them already.
Ends with 'tests: N passed, M failed', one case per file and flag set (the
simd tests are read twice, as they are built: baseline and -march=native).
"""
import concurrent.futures
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import sys

import meson_suites

root = pathlib.Path(__file__).resolve().parent.parent
arguments = sys.argv[1:]


def fail(message):
    print(f"clang front end: {message}")
    print("tests: 0 passed, 1 failed")
    sys.exit(1)


skipped_suites = meson_suites.take_repeated(arguments, "--skip-suite")
if skipped_suites is None:
    fail("--skip-suite needs a name")
build = pathlib.Path(arguments[0]) if arguments else root / "build-clang-front-end"
if not build.is_absolute():
    build = root / build

if shutil.which("clang++") is None:
    fail("clang++ not found")

if not (build / "build.ninja").exists():
    setup = subprocess.run(["meson", "setup", build, "-Dtests=true", "-Dexamples=true", "-Dbench=false"],
                           cwd=root, env={**os.environ, "CXX": "clang++"}, capture_output=True, text=True)
    if setup.returncode != 0:
        print(setup.stdout + setup.stderr)
        fail("meson setup with clang++ failed")
# The build files regenerated if meson.build changed, so that the commands read are current.
if subprocess.run(["ninja", "-C", build, "build.ninja"], cwd=root, capture_output=True).returncode != 0:
    fail("the build files could not be regenerated")

# The precompiled library the tests read (tests/pch); absent when the build
# was configured with -Dtests_pch=false, and then nothing reads it.
if any(t["name"] == "tapeless_tests_pch" for t in meson_suites.introspect(build, "targets")):
    pch = subprocess.run(["meson", "compile", "-C", build, "tapeless_tests_pch"], cwd=root,
                         capture_output=True, text=True)
    if pch.returncode != 0:
        print(pch.stdout + pch.stderr)
        fail("the precompiled header did not compile")


def syntax_only(command):
    """The compile command with its output, dependency file and -c replaced by -fsyntax-only."""
    words = shlex.split(command)
    kept = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
        elif word not in ("-c", "-MD", "-MMD"):
            kept.append(word)
    return kept + ["-fsyntax-only", "-fno-color-diagnostics"]  # plain text in CI's log


# The object directories (<executable>.p/) of the skipped suites' executables.
skipped_objects = ({f + ".p" for f in meson_suites.depended_files(build, meson_suites.tests_in(build, skipped_suites))}
                   if skipped_suites else set())

entries = []
for entry in json.loads((build / "compile_commands.json").read_text()):
    if pathlib.Path(entry["output"]).parent.as_posix() in skipped_objects:
        continue
    source = pathlib.Path(entry["directory"], entry["file"]).resolve()
    if "headers_alone" in entry["output"] or not source.is_relative_to(root):
        continue  # the headers-alone units (generated in the build directory)
    relative = source.relative_to(root).as_posix()
    if not relative.startswith(("tests/", "examples/")):
        continue
    if "clang" not in pathlib.Path(shlex.split(entry["command"])[0]).name:
        fail(f"{build} is not a clang build: {entry['command'].split()[0]} compiles {relative}")
    variant = pathlib.Path(entry["output"]).parent.name.removesuffix(".p")  # the target: simd_map or simd_map_native
    entries.append((f"{relative} ({variant})", entry["directory"], syntax_only(entry["command"])))
if not entries:
    fail(f"no test or example in {build / 'compile_commands.json'}")


def read(entry):
    label, directory, command = entry
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    return label, result.returncode, result.stdout + result.stderr


passed = failed = 0
with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for label, status, output in pool.map(read, sorted(entries)):
        if status == 0:
            passed += 1
            print(f"clang front end: {label} ok", flush=True)
        else:
            failed += 1
            print(output, end="")
            print(f"clang front end: {label} FAILED", flush=True)
print(f"tests: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
