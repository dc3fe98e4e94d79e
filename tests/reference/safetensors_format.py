"""A small reader and writer of safetensors files in plain Python (struct + json).

Debian ships no safetensors package, so the tests exchange files with PyTorch
through this module instead; it follows the format as the reference
implementation writes and checks it:

    8 bytes   N, the header length, unsigned little-endian
    N bytes   JSON: {"name": {"dtype": "F32", "shape": [8, 4],
                              "data_offsets": [begin, end]}, ...,
                     "__metadata__": {"key": "value", ...}}  (optional)
              padded with spaces; offsets count from the byte after it
    the rest  every tensor's raw little-endian row-major bytes, tiling the
              data exactly (no gap, no overlap, nothing after the last)

Values are flat row-major Python lists: floats for F32/F64, ints otherwise.
"""
import json
import math
import struct

# dtype -> struct format character (little-endian with "<"); each has its size.
DTYPES = {
    "F64": "d", "F32": "f",
    "I64": "q", "I32": "i", "I16": "h", "I8": "b",
    "U64": "Q", "U32": "I", "U16": "H", "U8": "B",
    "BOOL": "?",
}


class FormatError(Exception):
    pass


def _pack(dtype, values):
    return struct.pack("<%d%s" % (len(values), DTYPES[dtype]), *values)


def write(path, tensors, metadata=None):
    """Writes tensors, a list of (name, dtype, shape, values), in that order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    data = bytearray()
    for name, dtype, shape, values in tensors:
        if math.prod(shape) != len(values):
            raise FormatError(f"{name}: shape {shape} does not hold {len(values)} values")
        raw = _pack(dtype, values)
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the reference writer aligns the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(data))


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise FormatError(f"duplicate key in header object: {keys}")
    return dict(pairs)


def _natural(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read(path):
    """Returns (tensors, metadata, header_length): tensors maps each name to
    (dtype, shape, values) in the file's header order; raises FormatError
    unless the file is well formed."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise FormatError(f"{len(blob)} bytes: too short for the header length")
    (n,) = struct.unpack_from("<Q", blob)
    if n > len(blob) - 8:
        raise FormatError(f"header length {n} runs past the end of the file ({len(blob)} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"malformed header: {e}") from None
    if not isinstance(header, dict):
        raise FormatError("the header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise FormatError("__metadata__ must map strings to strings")

    data = blob[8 + n:]
    tensors, ranges = {}, []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise FormatError(f"{name}: a tensor has exactly dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise FormatError(f"{name}: dtype {dtype!r} unknown to this reader")
        if not isinstance(shape, list) or not all(_natural(d) for d in shape):
            raise FormatError(f"{name}: bad shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(_natural(o) for o in offsets)):
            raise FormatError(f"{name}: bad data_offsets {offsets!r}")
        begin, end = offsets
        count = math.prod(shape)
        if end - begin != count * struct.calcsize("<" + DTYPES[dtype]) or end > len(data):
            raise FormatError(f"{name}: data_offsets {offsets} do not hold shape {shape} of "
                              f"{dtype} inside {len(data)} bytes of data")
        values = list(struct.unpack_from("<%d%s" % (count, DTYPES[dtype]), data, begin))
        tensors[name] = (dtype, shape, values)
        ranges.append((begin, end, name))
    covered = 0
    for begin, end, name in sorted(ranges):
        if begin != covered:
            raise FormatError(f"{name}: starts at data byte {begin}, expected {covered} "
                              "(gap or overlap)")
        covered = end
    if covered != len(data):
        raise FormatError(f"{len(data) - covered} bytes after the last tensor")
    return tensors, metadata, n
