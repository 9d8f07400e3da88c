#!/usr/bin/env python3
"""Write the statistics fixture pair Tests/Fixtures/stats/{a,b}.safetensors.

Deterministic: one seeded numpy Generator, tensors built in a fixed order.
Every tensor name is present in both files (A = reference, B = candidate).
The files are written by the safetensors package itself (`serialize_file`, which is
what `safetensors.numpy.save_file` calls); BF16 and F8 tensors, which numpy has no
dtype for, are handed to it as raw little-endian bit patterns with the safetensors
dtype name ("bfloat16", "float8_e4m3fn", "float8_e5m2").

Usage:  python3 Scripts/make_stats_fixture.py [OUT_DIR]   (default Tests/Fixtures/stats)
Then:   python3 Scripts/expected_stats.py OUT_DIR/a.safetensors OUT_DIR/b.safetensors -o OUT_DIR/expected.json
"""

import os
import sys
import warnings

import numpy as np
from safetensors import TensorSpec, serialize_file

SEED = 20260323


# ---------------------------------------------------------------- encoders

def f32_to_bf16_bits(x):
    """float32 array -> uint16 BF16 bit patterns, round to nearest even; NaN stays NaN (quiet)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    bits = rounded.astype(np.uint16)
    nan = np.isnan(x)
    bits[nan] = ((u[nan] >> 16).astype(np.uint16) | 0x0040)  # keep sign/payload top, force quiet bit
    return bits


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def f32_to_f16(x):
    """IEEE round-to-nearest-even cast (numpy's astype); overflow gives ±inf on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(x, dtype=np.float32).astype(np.float16)


# ---------------------------------------------------------------- container

class Pair:
    """Ordered tensors for A and B, each as (safetensors dtype name, shape, contiguous array of raw values)."""

    def __init__(self):
        self.a = {}
        self.b = {}

    def add(self, name, a, b):
        assert name not in self.a
        self.a[name] = a
        self.b[name] = b


def native(arr):
    """A numpy-native tensor: the dtype name numpy gives is what safetensors understands."""
    arr = np.ascontiguousarray(arr)
    return (arr.dtype.name, list(arr.shape), arr)


def raw(dtype_name, shape, bits):
    """A tensor numpy cannot type (BF16, F8): raw bit patterns plus the safetensors dtype name."""
    bits = np.ascontiguousarray(bits)
    assert bits.size == int(np.prod(shape, dtype=np.int64))
    return (dtype_name, list(shape), bits.reshape(shape))


def write(tensors, path):
    keep = []
    specs = {}
    for name, (dtype_name, shape, arr) in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.byteswap().view(arr.dtype.newbyteorder("<"))
        keep.append(arr)
        specs[name] = TensorSpec(dtype=dtype_name, shape=shape, data_ptr=arr.ctypes.data, data_len=arr.nbytes)
    serialize_file(specs, path, metadata={"fixture": f"ckdiff statistics reference, seed {SEED}"})
    # one metadata key only: the writer keeps metadata in a hash map, so several keys come out in random order
    del keep


# ---------------------------------------------------------------- cases

def build():
    rng = np.random.default_rng(SEED)
    p = Pair()

    def normal(shape, scale=0.02):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    # F32 vs F32, small perturbation (some elements beyond the F32 tolerance).
    a = normal((64, 96))
    b = (a + rng.standard_normal(a.shape).astype(np.float32) * np.float32(1e-5)).astype(np.float32)
    p.add("f32_perturbed_2d", native(a), native(b))

    # F32 vs F32, byte-identical.
    a = normal((37,))
    p.add("f32_identical_1d", native(a), native(a.copy()))

    # F32 vs F32, equal values but +0.0 vs -0.0 (not byte-identical, every |d| = 0).
    a = normal((12,))
    a[[2, 5, 9]] = 0.0
    b = a.copy()
    b[[2, 5, 9]] = -0.0
    p.add("f32_signed_zero", native(a), native(b))

    # F32 4-D perturbed (conv-weight shape).
    a = normal((4, 3, 5, 5))
    b = (a * (1 + rng.standard_normal(a.shape) * 1e-3)).astype(np.float32)
    p.add("f32_perturbed_4d", native(a), native(b))

    # F16 vs F16 perturbed, 4-D.
    a16 = f32_to_f16(normal((8, 16, 3, 3), 0.05))
    b16 = f32_to_f16(a16.astype(np.float32) + rng.standard_normal(a16.shape).astype(np.float32) * np.float32(2e-4))
    p.add("f16_perturbed_4d", native(a16), native(b16))

    # BF16 vs BF16 perturbed.
    af = normal((32, 48), 0.05)
    abits = f32_to_bf16_bits(af)
    bbits = f32_to_bf16_bits(bf16_bits_to_f32(abits) + rng.standard_normal(af.shape).astype(np.float32) * np.float32(5e-4))
    p.add("bf16_perturbed_2d", raw("bfloat16", [32, 48], abits), raw("bfloat16", [32, 48], bbits))

    # F32 vs F16: exact round-to-nearest-even cast of A.
    a = normal((128, 64), 0.5)
    p.add("f32_vs_f16_cast", native(a), native(f32_to_f16(a)))

    # F32 vs BF16: exact round-to-nearest-even cast of A.
    a = normal((96, 40), 0.5)
    p.add("f32_vs_bf16_cast", native(a), raw("bfloat16", [96, 40], f32_to_bf16_bits(a)))

    # F32 with values beyond the F16 range vs its F16 cast (±inf on B).
    a = normal((256,), 1000.0)
    a[[3, 50, 100, 200]] = [70000.0, -1.0e5, 65519.0, 65520.0]  # 65519 -> 65504, 65520 -> inf (RNE)
    a[[7, 8]] = [65504.0, -65504.0]
    p.add("f32_overflow_vs_f16", native(a), native(f32_to_f16(a)))

    # Tiny F32 values vs their F16 cast: underflow to zero (and -0.0 for negatives).
    a = normal((64,), 1e-3)
    a[0:10] = [1e-9, -1e-9, 2.9e-8, -2.9e-8, 2.98e-8, 3.0e-8, 6.0e-8, 1e-7, 1e-30, -5e-12]
    a[10] = 0.0
    p.add("f32_underflow_vs_f16", native(a), native(f32_to_f16(a)))

    # NaN and ±Inf on each side, F32, 2-D.
    a = normal((10, 10))
    b = (a + rng.standard_normal(a.shape).astype(np.float32) * np.float32(1e-6)).astype(np.float32)
    inf, nan = np.float32(np.inf), np.float32(np.nan)
    af, bf = a.reshape(-1), b.reshape(-1)
    af[1] = nan                    # NaN in A only
    bf[4] = nan                    # NaN in B only
    af[9] = nan; bf[9] = nan       # NaN both, same index
    af[13] = inf; bf[13] = inf     # same +inf both
    af[21] = -inf; bf[21] = -inf   # same -inf both
    af[30] = inf; bf[30] = -inf    # opposite infinities
    af[42] = inf                   # inf in A, finite B
    bf[57] = -inf                  # finite A, -inf in B
    af[60] = nan; bf[60] = inf     # NaN A, inf B
    af[77] = -inf; bf[77] = nan    # -inf A, NaN B
    p.add("f32_nan_inf_2d", native(a), native(b))

    # NaN / Inf in F16 and BF16 too.
    a16 = f32_to_f16(normal((40,), 0.1))
    b16 = a16.copy()
    b16[[0, 5]] = np.float16(np.nan)
    b16[[6]] = np.float16(np.inf)
    a16[[6, 7]] = np.float16(np.inf)
    b16[7] = np.float16(np.inf)
    a16[20] = np.float16(np.nan); b16[20] = np.float16(np.nan)
    b16[30] = b16[30] + np.float16(0.001)
    p.add("f16_nan_inf", native(a16), native(b16))

    abits = f32_to_bf16_bits(normal((40,), 0.1))
    bbits = abits.copy()
    abits[3] = 0x7FC0  # NaN
    bbits[11] = 0xFF80  # -inf
    abits[12] = 0x7F80; bbits[12] = 0x7F80  # +inf both
    bbits[25] = 0x0000  # +0 where A is nonzero (underflow-like)
    p.add("bf16_nan_inf", raw("bfloat16", [40], abits), raw("bfloat16", [40], bbits))

    # Zero A vs nonzero B (rel_l2 = inf, cosine = 0); both zero (rel_l2 = 0, cosine = 1).
    p.add("zero_a_nonzero_b", native(np.zeros((16,), np.float32)), native(normal((16,))))
    p.add("nonzero_a_zero_b", native(normal((16,))), native(np.zeros((16,), np.float32)))
    p.add("both_zero", native(np.zeros((4, 4), np.float32)), native(np.zeros((4, 4), np.float32)))

    # 0-rank scalar and a zero-size tensor.
    p.add("scalar_0rank", native(np.array(1.5, np.float32)), native(np.array(1.5078125, np.float32)))
    p.add("empty_0x4", native(np.zeros((0, 4), np.float32)), native(np.zeros((0, 4), np.float32)))

    # Large F16 tensor, ~300k elements (several 64K-element chunks, odd tail).
    shape = (307, 1001)
    a16 = f32_to_f16(normal(shape, 0.02))
    b16 = f32_to_f16(a16.astype(np.float32) + rng.standard_normal(shape).astype(np.float32) * np.float32(1e-5))
    af, bf = a16.reshape(-1), b16.reshape(-1)
    # tie for the largest |d| in two different chunks, opposite signs; lowest index must win
    af[70001] = np.float16(0.25); bf[70001] = np.float16(0.75)
    af[200003] = np.float16(-0.25); bf[200003] = np.float16(-0.75)
    bf[65536] = np.float16(np.nan)   # NaN in B at a chunk boundary
    af[131071] = np.float16(np.inf); bf[131071] = np.float16(np.inf)
    bf[307306] = np.float16(0.0)     # last element
    p.add("f16_large_307x1001", native(a16), native(b16))

    # Tie for max |d|: +0.5 at flat 7, -0.5 at flat 3 (exactly representable), lowest index is 3.
    a = np.array([0.0, 0.25, 1.0, 2.0, -1.0, 0.125, 3.0, 4.0, 0.0, 1.0], np.float32)
    b = a.copy()
    b[7] += 0.5
    b[3] -= 0.5
    b[5] += 0.25
    p.add("tie_max_abs", native(a), native(b))

    # Histogram / tolerance boundaries, F64: A = 0 so |d| equals the float64 literal exactly.
    lits = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    vals = [0.0]
    for x in lits:
        vals += [x, np.nextafter(x, np.inf), -x]
    vals += [5e-9, 11.0, -1e3]
    bvals = np.array(vals, np.float64)
    avals = np.zeros_like(bvals)
    avals2 = rng.standard_normal(8)  # plus nonzero A with d = 0
    p.add("f64_hist_boundaries", native(np.concatenate([avals, avals2])), native(np.concatenate([bvals, avals2])))

    # The same literals stored in F32 on B (float32(1e-3) > 1e-3 lands in "<=1e-2"): compare in float64.
    b = np.array([0.0] + lits, np.float32)
    p.add("f32_hist_literals", native(np.zeros_like(b)), native(b))

    # F64 vs F64 perturbed.
    a = rng.standard_normal(50)
    b = a + rng.standard_normal(50) * 1e-8
    p.add("f64_perturbed", native(a), native(b))

    # F32 vs F64 (looser dtype F32 decides the tolerance).
    a = normal((20,), 1.0)
    b = a.astype(np.float64) + rng.standard_normal(20) * 1e-6
    p.add("f32_vs_f64", native(a), native(b))

    # F16 vs BF16 (the benchmark's P3 kind of pair).
    a16 = f32_to_f16(normal((24, 24), 0.05))
    p.add("f16_vs_bf16_cast", native(a16), raw("bfloat16", [24, 24], f32_to_bf16_bits(a16.astype(np.float32))))

    # position_ids-like integers.
    pos = np.arange(77, dtype=np.int64).reshape(1, 77)
    p.add("i64_position_ids_equal", native(pos), native(pos.copy()))
    posb = pos.copy()
    posb[0, [10, 40]] = [11, 39]
    posb[0, 76] = 1000
    p.add("i64_position_ids_differ", native(pos), native(posb))
    posf = pos.astype(np.float32)
    posf[0, 5] = np.float32(5.00002)   # beyond F32 tolerance (1e-5 + 1.3e-6*5)
    posf[0, 60] = np.float32(60.000004)  # within
    p.add("i64_vs_f32_position_ids", native(pos), native(posf))

    # Other integer dtypes.
    a = rng.integers(-1000, 1000, size=(6, 5), dtype=np.int32)
    b = a.copy()
    b[2, 3] += 1
    p.add("i32_differ", native(a), native(b))
    a = rng.integers(0, 256, size=(16,), dtype=np.uint8)
    b = a.copy()
    b[4] = 255 - b[4]
    p.add("u8_differ", native(a), native(b))

    # BOOL vs BOOL, a few flips.
    a = rng.random(64) < 0.5
    b = a.copy()
    b[[1, 17, 33]] = ~b[[1, 17, 33]]
    p.add("bool_flips", native(a), native(b))
    m = rng.random(16) < 0.5
    p.add("bool_equal", native(m), native(m.copy()))

    # F8: every bit pattern once on A (incl. NaN codes, and ±inf for E5M2), B = neighbour codes here and there.
    codes = np.arange(256, dtype=np.uint8)
    a8 = rng.permutation(codes)
    b8 = a8.copy()
    idx = rng.choice(256, size=40, replace=False)
    b8[idx] = (b8[idx].astype(np.int32) ^ 1).astype(np.uint8)  # flip the lowest mantissa bit
    p.add("f8_e4m3_all_codes", raw("float8_e4m3fn", [16, 16], a8), raw("float8_e4m3fn", [16, 16], b8))
    a8 = rng.permutation(codes)
    b8 = a8.copy()
    idx = rng.choice(256, size=40, replace=False)
    b8[idx] = (b8[idx].astype(np.int32) ^ 1).astype(np.uint8)
    p.add("f8_e5m2_all_codes", raw("float8_e5m2", [256], a8), raw("float8_e5m2", [256], b8))

    return p


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("Tests", "Fixtures", "stats")
    os.makedirs(out, exist_ok=True)
    p = build()
    write(p.a, os.path.join(out, "a.safetensors"))
    write(p.b, os.path.join(out, "b.safetensors"))
    print(f"wrote {len(p.a)} tensors to {out}/a.safetensors and {out}/b.safetensors")


if __name__ == "__main__":
    main()
