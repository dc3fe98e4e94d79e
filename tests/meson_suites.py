"""What tests/run.py and tests/clang_front_end.py read of a configured Meson
build directory: its tests and targets, and which of them a Meson suite
(tests/meson.build: 'bad_input'; tests/simd/meson.build: 'simd_kernels')
holds."""
import json
import pathlib
import subprocess


def introspect(build, what):
    """meson introspect <build> --<what> (tests, targets), as Python values."""
    return json.loads(subprocess.run(["meson", "introspect", build, f"--{what}"], capture_output=True,
                                     text=True).stdout or "[]")


def take_repeated(arguments, flag):
    """The values of every `flag NAME` in arguments, removed from it; None if a flag has no name."""
    values = []
    while flag in arguments:
        at = arguments.index(flag)
        if at + 1 >= len(arguments):
            return None
        values.append(arguments[at + 1])
        del arguments[at:at + 2]
    return values


def tests_in(build, suites):
    """The tests of any of the suites (Meson lists a suite as "project:suite" too)."""
    return [t for t in introspect(build, "tests") if any(s.split(":")[-1] in suites for s in t["suite"])]


def depended_files(build, tests):
    """What the tests depend on (their executables, and what a test names in
    depends), as paths in the build directory: ninja's names for them."""
    files = {t["id"]: t["filename"] for t in introspect(build, "targets")}
    root = pathlib.Path(build).resolve()
    return sorted({pathlib.Path(f).resolve().relative_to(root).as_posix()
                   for t in tests for d in t["depends"] for f in files.get(d, [])})
