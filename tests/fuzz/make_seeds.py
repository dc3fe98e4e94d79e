#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/):
small valid inputs and a few near misses, so that libFuzzer starts from the
formats' shapes. Run from anywhere; the outputs are committed."""
import gzip
import json
import pathlib
import struct

here = pathlib.Path(__file__).resolve().parent


def write(target, name, data):
    folder = here / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


labels = idx([5], [0, 1, 2, 9, 3])
images = idx([5, 2, 2], range(20))
write("idx", "labels", labels)
write("idx", "images", images)
write("idx", "truncated", images[:-3])
write("idx", "rank0", bytes([0, 0, 8, 0]))
write("idx", "float_type", bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0")

write("gzip", "labels.gz", gzip.compress(labels, mtime=0))
write("gzip", "images.gz", gzip.compress(images, mtime=0))
write("gzip", "two_members.gz", gzip.compress(images[:10], mtime=0) + gzip.compress(images[10:], mtime=0))
write("gzip", "zeros.gz", gzip.compress(idx([1, 1], [0]) + bytes(4000), mtime=0))

# First byte: the options (see csv.cpp); the rest: the text.
write("csv", "header", b"\x00x,z,y\n1,2,0\n3.5,-4e2,2\n")
write("csv", "absent", b"\x01" + b"1,2,0\n1e-50,5,1\n")
write("csv", "text_labels", b"\x10a,b,y\n1,2,cat\n3,4,dog\n")
write("csv", "quoted_crlf", b"\x00\"a,1\",b,y\r\n\"1\", 2 ,0\r\n\r\n")
write("csv", "semicolons", b"\x24a;b;y\n1;2;3\n")
write("csv", "float_targets", b"\x80a,b,y\n1,2,0.25\n")


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


store = [("w", "F32", [2, 3], struct.pack("<6f", *range(6))),
         ("b", "F64", [3], struct.pack("<3d", 1, 2, 3)),
         ("n", "I64", [], struct.pack("<q", 42))]
write("safetensors", "store", safetensors(store, {"epoch": "3"}))
write("safetensors", "extra", safetensors(store + [("x", "U8", [2], b"\1\2")]))
write("safetensors", "wrong_shape", safetensors([("w", "F32", [3, 2], struct.pack("<6f", *range(6)))] + store[1:]))
write("safetensors", "empty_header", struct.pack("<Q", 2) + b"{}")
