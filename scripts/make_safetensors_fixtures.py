#!/usr/bin/python3
"""safetensors fixtures for tests/test_safetensors.cpp, written byte by byte with struct + json
(independent of src/io/safetensors and of the safetensors package).

tests/data/safetensors/
  dtypes.safetensors   one tensor per dtype (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL), incl. a
                       scalar, a zero-size tensor, F16 subnormal/inf and BF16 values, __metadata__
  dtypes.json          the expected values (as float64 / int) and shapes
  bad_*.safetensors    corrupt files; bad_cases.json maps each to the error text expected
Run from the repository root:  /usr/bin/python3 scripts/make_safetensors_fixtures.py
"""
import json
import math
import os
import struct

OUT = os.path.join("tests", "data", "safetensors")
os.makedirs(OUT, exist_ok=True)

FMT = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B", "BOOL": "?"}


def bf16_bytes(values):
    out = b""
    for v in values:
        bits = struct.unpack("<I", struct.pack("<f", v))[0]
        out += struct.pack("<H", bits >> 16)  # truncation; the values below are exact in bf16
    return out


def encode(dtype, values):
    if dtype == "BF16":
        return bf16_bytes(values)
    return struct.pack("<%d%s" % (len(values), FMT[dtype]), *values)


def build(entries, metadata=None, pad=True):
    """entries: list of (name, dtype, shape, bytes). Returns the file bytes and the header."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, blob in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    return header, data


def serialize(header, data, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def write(name, blob):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


# --- the valid file --------------------------------------------------------------------------
values = {
    "f64": ("F64", [2, 2], [1.5, -2.25, 1e-300, 3.141592653589793]),
    "f32": ("F32", [3], [0.1, -7.5, 65504.0]),
    "f16": ("F16", [2, 3], [1.0, -2.0, 0.5, 65504.0, 5.960464477539063e-08, float("inf")]),  # max, min subnormal, inf
    "bf16": ("BF16", [4], [1.0, -3.5, 0.0078125, 3.3895313892515355e38]),
    "i64": ("I64", [3], [-(2 ** 62), 0, 2 ** 53 + 1]),
    "i32": ("I32", [2], [-2147483648, 2147483647]),
    "i16": ("I16", [2], [-32768, 32767]),
    "i8": ("I8", [3], [-128, 0, 127]),
    "u8": ("U8", [2, 2], [0, 1, 128, 255]),
    "bool": ("BOOL", [3], [True, False, True]),
    "scalar": ("F32", [], [42.0]),
    "empty": ("F32", [0, 3], []),
}
entries = [(k, d, s, encode(d, v)) for k, (d, s, v) in sorted(values.items())]
header, data = build(entries, {"format": "pt", "note": "fixture"})
write("dtypes.safetensors", serialize(header, data))
expected = {k: {"dtype": d, "shape": s,
                "values": [("inf" if (isinstance(x, float) and math.isinf(x)) else (int(x) if d in ("I64", "I32", "I16", "I8", "U8", "BOOL") else x)) for x in v]}
            for k, (d, s, v) in values.items()}
with open(os.path.join(OUT, "dtypes.json"), "w") as f:
    json.dump({"tensors": expected, "metadata": {"format": "pt", "note": "fixture"}}, f, indent=1)

# --- corrupt files ---------------------------------------------------------------------------
bad = {}


def bad_file(name, blob, expect):
    write(name + ".safetensors", blob)
    bad[name] = expect


a = encode("F32", [1.0] * 16)  # 64 bytes
ok_header = {"a": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}}
bad_file("bad_json", struct.pack("<Q", 20) + b'{"a": {"dtype": "F3' + b"\x00" + a, "corrupt JSON header")
bad_file("bad_header_len_huge", struct.pack("<Q", 2 ** 63) + b"{}", "exceeds the file size")
bad_file("bad_header_len_beyond", struct.pack("<Q", 100) + b"{}" + b" " * 6, "exceeds the file size")
bad_file("bad_header_array", serialize([1, 2], b""), "header is not a JSON object")
bad_file("bad_out_of_range",
         serialize({"a": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]},
                    "b": {"dtype": "F32", "shape": [4], "data_offsets": [64, 80]}}, a),
         "tensor 'b': data_offsets [64, 80] outside the data buffer of 64 bytes")
bad_file("bad_overlap",
         serialize({"a": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]},
                    "b": {"dtype": "F32", "shape": [8], "data_offsets": [16, 48]}}, a),
         "tensor 'b' at offset 16 overlaps tensor 'a'")
# An empty tensor sorted between two overlapping ranges must not hide the overlap.
bad_file("bad_overlap_behind_empty",
         serialize({"big": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]},
                    "e": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
                    "c": {"dtype": "F32", "shape": [2], "data_offsets": [32, 40]}}, a),
         "tensor 'c' at offset 32 overlaps tensor 'big'")
bad_file("bad_size_mismatch",
         serialize({"a": {"dtype": "F32", "shape": [15], "data_offsets": [0, 64]}}, a),
         "tensor 'a': 64 bytes at offset 0, expected 60")
bad_file("bad_reversed_offsets",
         serialize({"a": {"dtype": "F32", "shape": [0], "data_offsets": [64, 0]}}, a),
         "data_offsets [64, 0] outside")
bad_file("bad_negative_offset",
         serialize({"a": {"dtype": "F32", "shape": [16], "data_offsets": [-8, 56]}}, a),
         "data_offsets must be non-negative integers")
bad_file("bad_dtype", serialize({"a": {"dtype": "F8_E4M3", "shape": [64], "data_offsets": [0, 64]}}, a),
         "unsupported safetensors dtype 'F8_E4M3'")
bad_file("bad_negative_shape", serialize({"a": {"dtype": "F32", "shape": [-16], "data_offsets": [0, 64]}}, a),
         "shape entries must be non-negative integers")
bad_file("bad_huge_shape",
         serialize({"a": {"dtype": "F32", "shape": [2 ** 31, 2 ** 31, 2 ** 31], "data_offsets": [0, 64]}}, a),
         "shape is implausibly large")
bad_file("bad_missing_offsets", serialize({"a": {"dtype": "F32", "shape": [16]}}, a),
         "entry needs dtype, shape and data_offsets")
bad_file("bad_metadata", serialize({"__metadata__": [1], **ok_header}, a), "__metadata__ is not an object")
bad_file("bad_short", b"\x10\x00\x00", "truncated: 3 bytes")
with open(os.path.join(OUT, "bad_cases.json"), "w") as f:
    json.dump(bad, f, indent=1)
