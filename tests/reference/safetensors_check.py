#!/usr/bin/env python3
"""Checks a safetensors file that tapeless wrote, with the plain-Python reader
of safetensors_format.py (no torch needed): exactly the tensors given, each
with its dtype, shape and values, and the metadata given.

    python3 tests/reference/safetensors_check.py FILE
        [--tensor NAME DTYPE SHAPE VALUES]...  [--metadata KEY VALUE]...

SHAPE is comma-separated ("8,4"; "" for a scalar). VALUES is comma-separated,
row-major: integers for integer dtypes, and for F32/F64 hexadecimal floats
("-1.8p-3", as std::to_chars writes with chars_format::hex; "0x" is
optional), so the comparison is exact. Exit status 0 when everything
matches; otherwise every mismatch is printed and the status is 1 (2 for bad
arguments).
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import safetensors_format  # noqa: E402


def parse_values(dtype, text):
    if not text:
        return []
    if dtype in ("F32", "F64"):
        return [float.fromhex(v) for v in text.split(",")]
    return [int(v) for v in text.split(",")]


def parse_arguments(argv):
    """FILE, then --tensor with 4 words and --metadata with 2, in any order.
    By hand, not argparse: a value list may begin with "-"."""
    if not argv or argv[0].startswith("--"):
        raise ValueError("the first argument is the file")
    file, tensors, metadata, i = argv[0], [], [], 1
    while i < len(argv):
        count = {"--tensor": 4, "--metadata": 2}.get(argv[i])
        if count is None:
            raise ValueError(f"unexpected argument {argv[i]!r}")
        if len(argv) - i - 1 < count:
            raise ValueError(f"{argv[i]} takes {count} arguments")
        (tensors if argv[i] == "--tensor" else metadata).append(argv[i + 1:i + 1 + count])
        i += 1 + count
    return file, tensors, metadata


def main():
    try:
        file, expected_tensors, expected_metadata = parse_arguments(sys.argv[1:])
    except ValueError as e:
        print(f"safetensors_check: {e}\n{__doc__}")
        return 2

    try:
        tensors, metadata, _ = safetensors_format.read(file)
    except (OSError, safetensors_format.FormatError) as e:
        print(f"safetensors_check: {file}: {e}")
        return 1

    problems = []
    expected_names = [t[0] for t in expected_tensors]
    if sorted(tensors) != sorted(expected_names):
        problems.append(f"tensors {sorted(tensors)}, expected {sorted(expected_names)}")
    for name, dtype, shape_text, values_text in expected_tensors:
        if name not in tensors:
            continue
        got_dtype, got_shape, got_values = tensors[name]
        shape = [int(d) for d in shape_text.split(",")] if shape_text else []
        if got_dtype != dtype:
            problems.append(f"{name}: dtype {got_dtype}, expected {dtype}")
        if got_shape != shape:
            problems.append(f"{name}: shape {got_shape}, expected {shape}")
        values = parse_values(dtype, values_text)
        if got_values != values:
            wrong = [i for i, (a, b) in enumerate(zip(got_values, values)) if a != b]
            where = f"first at {wrong[0]}: {got_values[wrong[0]]!r} != {values[wrong[0]]!r}" \
                if wrong else f"{len(got_values)} values, expected {len(values)}"
            problems.append(f"{name}: values differ ({where})")
    if metadata != dict(expected_metadata):
        problems.append(f"metadata {metadata}, expected {dict(expected_metadata)}")

    for p in problems:
        print(f"safetensors_check: {file}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
