#!/usr/bin/env python3
"""Reference per-tensor statistics for two safetensors files, computed in float64 with NumPy.

This is the independent oracle for ckdiff's comparison engine (Sources/Comparison). It shares no
code with ckdiff: tensors are read with the `safetensors` package (numpy framework); BF16 and
F8 tensors, which numpy has no dtype for, are read from the raw bytes located through the file
header (parsed here with json + struct) and decoded by the bit-level decoders below.

For every tensor name present in both files (A = reference, B):
  decode both to float64 (integers/bools to their numeric value);
  fin = isfinite(a) & isfinite(b); d = b - a on fin; n = count(fin)
  max_abs, max_abs_index (lowest flat C-order index; null when max_abs == 0: no difference, no location), mean_abs, rmse,
  rel_l2 = ||d||/||a|| (0 if both norms 0, inf if only ||a|| is 0),
  cosine = a.b/(||a|| ||b||) (1 if both norms 0, 0 if exactly one is 0), all over fin;
  atol/rtol of the looser dtype (larger rtol; an int-vs-float pair uses the float's, int/bool exact);
  mismatched over all elements: (fin and |d| > atol + rtol*|a|) or (not fin and not same-infinity
  and not both-NaN); a_nan, a_inf, b_nan, b_inf; new_nonfinite; underflow_to_zero;
  a_beyond_f16 (only when B is F16, else null); histogram of |d| over fin (12 buckets, see
  HISTOGRAM_BUCKETS); identical = same dtype, same shape, same raw bytes.
Sums use math.fsum (correctly rounded), so the figures are as exact as float64 allows.

Usage:
  python3 Scripts/expected_stats.py A.safetensors B.safetensors [-o expected.json]
  python3 Scripts/expected_stats.py --self-check MANIFEST.json   (decoder check against
      Tests/Fixtures/safetensors_cases/manifest.json, whose values safetensors.torch wrote)
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import safetensors
from safetensors import safe_open

HISTOGRAM_BUCKETS = ["0", "<=1e-8", "<=1e-7", "<=1e-6", "<=1e-5", "<=1e-4", "<=1e-3",
                     "<=1e-2", "<=1e-1", "<=1", "<=10", ">10"]
_EDGES = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]

# (rtol, atol) per float dtype; integers and BOOL are exact (0, 0).
FLOAT_TOLERANCES = {
    "F16": (1e-3, 1e-5),
    "BF16": (1.6e-2, 1e-5),
    "F32": (1.3e-6, 1e-5),
    "F64": (1e-7, 1e-7),
    "F8_E4M3": (0.125, 1e-5),
    "F8_E5M2": (0.25, 1e-5),
}
INTEGER_DTYPES = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64"}

_NUMPY_NATIVE = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64"}


# ---------------------------------------------------------------- decoding

def _f8_table(exp_bits, man_bits, has_inf):
    """float64 value of every byte for an 8-bit float with 1 sign, exp_bits, man_bits bits.

    E4M3 is the "fn" variant (bias 7, no infinities, S.1111.111 = NaN); E5M2 is IEEE-like
    (bias 15, exponent all ones = inf when mantissa 0, NaN otherwise).
    """
    bias = (1 << (exp_bits - 1)) - 1
    top = (1 << exp_bits) - 1
    table = np.empty(256, np.float64)
    for v in range(256):
        sign = -1.0 if v & 0x80 else 1.0
        e = (v >> man_bits) & top
        m = v & ((1 << man_bits) - 1)
        if has_inf and e == top:
            table[v] = sign * math.inf if m == 0 else math.nan
        elif not has_inf and e == top and m == (1 << man_bits) - 1:
            table[v] = math.nan
        elif e == 0:
            table[v] = sign * math.ldexp(m / (1 << man_bits), 1 - bias)
        else:
            table[v] = sign * math.ldexp(1.0 + m / (1 << man_bits), e - bias)
    return table


F8_E4M3_TABLE = _f8_table(4, 3, has_inf=False)
F8_E5M2_TABLE = _f8_table(5, 2, has_inf=True)


def decode_raw(dtype, raw_bytes):
    """float64 values of BF16 / F8 raw little-endian bytes."""
    if dtype == "BF16":
        bits = np.frombuffer(raw_bytes, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    if dtype == "F8_E4M3":
        return F8_E4M3_TABLE[np.frombuffer(raw_bytes, dtype=np.uint8)]
    if dtype == "F8_E5M2":
        return F8_E5M2_TABLE[np.frombuffer(raw_bytes, dtype=np.uint8)]
    raise ValueError(f"no decoder for dtype {dtype}")


class File:
    """One safetensors file: header (parsed here), raw bytes per tensor, float64 values."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            self.header = json.loads(f.read(n).decode("utf-8"))
            self.data_start = 8 + n
        self.header.pop("__metadata__", None)
        self.handle = safe_open(path, framework="numpy")
        if set(self.handle.keys()) != set(self.header):
            raise SystemExit(f"{path}: safetensors and the header parse disagree on the tensor names")

    def names(self):
        return set(self.header)

    def dtype(self, name):
        return self.header[name]["dtype"]

    def shape(self, name):
        return list(self.header[name]["shape"])

    def raw(self, name):
        begin, end = self.header[name]["data_offsets"]
        with open(self.path, "rb") as f:
            f.seek(self.data_start + begin)
            data = f.read(end - begin)
        if len(data) != end - begin:
            raise SystemExit(f"{self.path}: tensor {name} is truncated")
        return data

    def values(self, name):
        """float64 values, flat C order."""
        dtype = self.dtype(name)
        if dtype in _NUMPY_NATIVE:
            arr = self.handle.get_tensor(name)
            if list(arr.shape) != self.shape(name):
                raise SystemExit(f"{self.path}: tensor {name}: shape mismatch between safetensors and header")
            if dtype in ("U64", "I64"):
                big = np.abs(arr.astype(np.float64)) > 2.0 ** 53
                if big.any():
                    print(f"warning: {self.path}: {name} has integers beyond 2^53; float64 rounds them",
                          file=sys.stderr)
            return arr.reshape(-1).astype(np.float64)
        values = decode_raw(dtype, self.raw(name))
        expected = int(np.prod(self.shape(name), dtype=np.int64))
        if values.size != expected:
            raise SystemExit(f"{self.path}: tensor {name}: {values.size} values for shape {self.shape(name)}")
        return values


# ---------------------------------------------------------------- statistics

def tolerance(dtype_a, dtype_b):
    """(atol, rtol) of the looser dtype of the pair; int/bool-only pairs are exact."""
    candidates = [FLOAT_TOLERANCES[d] for d in (dtype_a, dtype_b) if d in FLOAT_TOLERANCES]
    for d in (dtype_a, dtype_b):
        if d not in FLOAT_TOLERANCES and d not in INTEGER_DTYPES:
            raise SystemExit(f"no default tolerance for dtype {d}")
    if not candidates:
        return 0.0, 0.0
    rtol, atol = max(candidates, key=lambda t: t[0])
    return atol, rtol


def histogram(absd):
    counts = [int(np.count_nonzero(absd == 0.0))]
    lower = 0.0
    for edge in _EDGES:
        counts.append(int(np.count_nonzero((absd > lower) & (absd <= edge))))
        lower = edge
    counts.append(int(np.count_nonzero(absd > _EDGES[-1])))
    return counts


def fsum(x):
    return math.fsum(x.tolist())


def pair_stats(fa, fb, name):
    dtype_a, dtype_b = fa.dtype(name), fb.dtype(name)
    shape_a, shape_b = fa.shape(name), fb.shape(name)
    result = {"dtype_a": dtype_a, "dtype_b": dtype_b, "shape_a": shape_a, "shape_b": shape_b}
    result["identical"] = dtype_a == dtype_b and shape_a == shape_b and fa.raw(name) == fb.raw(name)
    if shape_a != shape_b:
        result["comparable"] = False
        return result
    result["comparable"] = True

    a = fa.values(name)
    b = fb.values(name)
    atol, rtol = tolerance(dtype_a, dtype_b)
    fin = np.isfinite(a) & np.isfinite(b)
    af, bf = a[fin], b[fin]
    d = bf - af
    absd = np.abs(d)
    n = int(fin.sum())

    if n:
        max_abs = float(absd.max())
        positions = np.flatnonzero(fin)
        max_abs_index = int(positions[int(np.argmax(absd == max_abs))]) if max_abs > 0 else None
        mean_abs = fsum(absd) / n
        rmse = math.sqrt(fsum(d * d) / n)
    else:
        max_abs, max_abs_index, mean_abs, rmse = 0.0, None, 0.0, 0.0

    norm_a = math.sqrt(fsum(af * af))
    norm_b = math.sqrt(fsum(bf * bf))
    norm_d = math.sqrt(fsum(d * d))
    if norm_a == 0.0:
        rel_l2 = 0.0 if norm_d == 0.0 else math.inf
    else:
        rel_l2 = norm_d / norm_a
    if norm_a == 0.0 and norm_b == 0.0:
        cosine = 1.0
    elif norm_a == 0.0 or norm_b == 0.0:
        cosine = 0.0
    else:
        cosine = fsum(af * bf) / (norm_a * norm_b)

    with np.errstate(invalid="ignore"):
        over = absd > atol + rtol * np.abs(af)
        nonfin = ~fin
        same_inf = np.isinf(a) & (a == b)
        both_nan = np.isnan(a) & np.isnan(b)
    mismatched = int(over.sum()) + int((nonfin & ~same_inf & ~both_nan).sum())

    fin_a = np.isfinite(a)
    result.update({
        "n_elements": int(a.size),
        "n_finite_pairs": n,
        "atol": atol,
        "rtol": rtol,
        "max_abs": max_abs,
        "max_abs_index": max_abs_index,
        "mean_abs": mean_abs,
        "rmse": rmse,
        "rel_l2": rel_l2,
        "cosine": cosine,
        "mismatched": mismatched,
        "a_nan": int(np.isnan(a).sum()),
        "a_inf": int(np.isinf(a).sum()),
        "b_nan": int(np.isnan(b).sum()),
        "b_inf": int(np.isinf(b).sum()),
        "new_nonfinite": int((fin_a & ~np.isfinite(b)).sum()),
        "underflow_to_zero": int((fin_a & (a != 0) & (b == 0)).sum()),
        "a_beyond_f16": int((fin_a & (np.abs(np.where(fin_a, a, 0.0)) > 65504.0)).sum()) if dtype_b == "F16" else None,
        "histogram": histogram(absd),
    })
    assert sum(result["histogram"]) == n
    return result


def jsonable(x):
    """inf/nan floats as strings "inf" / "-inf" / "nan"; everything else unchanged."""
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [jsonable(v) for v in x]
    return x


# ---------------------------------------------------------------- self check

def self_check(manifest_path):
    """Check the BF16 / F8 decoders against the values safetensors.torch wrote in the corpus."""
    manifest = json.load(open(manifest_path))
    checked = 0
    for entry in manifest["valid"]:
        for tname, t in entry.get("tensors", {}).items():
            if t["dtype"] not in ("BF16", "F8_E4M3", "F8_E5M2"):
                continue
            got = decode_raw(t["dtype"], bytes.fromhex(t["bytes_le_hex"]))
            want = [float(v) for v in t["values_flat_c_order"]]
            for g, w in zip(got.tolist(), want):
                ok = (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g) == math.copysign(1, w))
                if not ok:
                    raise SystemExit(f"decoder mismatch in {entry['file']}:{tname} ({t['dtype']}): {g} != {w}")
                checked += 1
    print(f"self-check: {checked} BF16/F8 values decoded as the manifest says")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a", nargs="?")
    ap.add_argument("b", nargs="?")
    ap.add_argument("-o", "--output", help="write JSON here (default: standard output)")
    ap.add_argument("--self-check", metavar="MANIFEST")
    args = ap.parse_args()
    if args.self_check:
        self_check(args.self_check)
        if not args.a:
            return
    if not (args.a and args.b):
        ap.error("give A and B")

    fa, fb = File(args.a), File(args.b)
    common = sorted(fa.names() & fb.names())
    out = {
        "a": os.path.basename(args.a),
        "b": os.path.basename(args.b),
        "generator": {"script": "Scripts/expected_stats.py", "numpy": np.__version__,
                      "safetensors": safetensors.__version__},
        "histogram_buckets": HISTOGRAM_BUCKETS,
        "only_in_a": sorted(fa.names() - fb.names()),
        "only_in_b": sorted(fb.names() - fa.names()),
        "tensors": {name: pair_stats(fa, fb, name) for name in common},
    }
    text = json.dumps(jsonable(out), sort_keys=True, indent=1, allow_nan=False) + "\n"
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
        print(f"wrote {len(common)} tensor pairs to {args.output}")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
