#!/usr/bin/env python3
"""The benchmark's baseline: what a user would write in PyTorch instead of running ckdiff.

This opens both safetensors files with `safetensors.safe_open(framework="pt")`. For every tensor
name present in both files it loads the two tensors, widens them with .float() (or .double() when
either side is F64) and computes these statistics with ordinary torch calls:
* the largest |b - a| and its flat index;
* mean |b - a|, RMSE, relative L2 ‖b - a‖/‖a‖ and cosine similarity, over the pairs where both
  values are finite;
* the number of elements outside torch.isclose(b, a, rtol, atol, equal_nan=True), with
  torch.testing's default tolerances taken from the looser dtype of the pair;
* NaN and inf counts on each side.
It then prints a summary. Accumulation precision is torch's own: float32 reductions, which torch
sums pairwise, in float64 only for F64 pairs.

It computes less than ckdiff does (no histogram, underflow or overflow counts), so it is if
anything a favourable baseline for torch.

Usage: bench_torch_baseline.py A.safetensors B.safetensors [--load-file] [--top N]
  --load-file   read both files whole with safetensors.torch.load_file first (needs RAM for both)
"""

import argparse
import math
import sys
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file

# torch.testing.assert_close defaults, (rtol, atol)
DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


def tolerances(dtype_a, dtype_b):
    known = [DEFAULT_TOLERANCES[d] for d in (dtype_a, dtype_b) if d in DEFAULT_TOLERANCES]
    if not known:
        return 0.0, 0.0  # integers / bool: exact
    return max(known)  # the looser of the two


def compare(a, b):
    rtol, atol = tolerances(a.dtype, b.dtype)
    wide = torch.float64 if torch.float64 in (a.dtype, b.dtype) else torch.float32
    a = a.reshape(-1).to(wide)
    b = b.reshape(-1).to(wide)
    finite = torch.isfinite(a) & torch.isfinite(b)
    n = int(finite.sum())
    diff = torch.where(finite, b - a, torch.zeros((), dtype=wide))
    absdiff = diff.abs()
    if n:
        max_abs, index = absdiff.max(dim=0)
        max_abs, index = float(max_abs), int(index)
    else:
        max_abs, index = 0.0, None
    a_fin = torch.where(finite, a, torch.zeros((), dtype=wide))
    b_fin = torch.where(finite, b, torch.zeros((), dtype=wide))
    norm_a = float(torch.linalg.vector_norm(a_fin))
    norm_b = float(torch.linalg.vector_norm(b_fin))
    norm_d = float(torch.linalg.vector_norm(diff))
    if norm_a == 0:
        rel_l2 = 0.0 if norm_d == 0 else math.inf
    else:
        rel_l2 = norm_d / norm_a
    if norm_a == 0 and norm_b == 0:
        cosine = 1.0
    elif norm_a == 0 or norm_b == 0:
        cosine = 0.0
    else:
        cosine = float(torch.nn.functional.cosine_similarity(a_fin, b_fin, dim=0))
    return {
        "max_abs": max_abs,
        "max_abs_index": index,
        "mean_abs": float(absdiff.sum() / n) if n else 0.0,
        "rmse": math.sqrt(float(diff.square().sum()) / n) if n else 0.0,
        "rel_l2": rel_l2,
        "cosine": cosine,
        "mismatched": int((~torch.isclose(b, a, rtol=rtol, atol=atol, equal_nan=True)).sum()),
        "a_nan": int(a.isnan().sum()), "a_inf": int(a.isinf().sum()),
        "b_nan": int(b.isnan().sum()), "b_inf": int(b.isinf().sum()),
        "numel": a.numel(),
    }


def resident_memory():
    """RssAnon / RssFile of this process (Linux): mmap-backed tensors count as file pages."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if line.startswith(("RssAnon", "RssFile", "VmHWM")))
        return ", ".join(f"{k} {v.strip()}" for k, v in fields.items())
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--load-file", action="store_true")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()

    t0 = time.time()
    results = {}
    if args.load_file:
        sa, sb = load_file(args.a), load_file(args.b)
        common = sorted(set(sa) & set(sb))
        only_a, only_b = sorted(set(sa) - set(sb)), sorted(set(sb) - set(sa))
        for key in common:
            if sa[key].shape == sb[key].shape:
                results[key] = compare(sa[key], sb[key])
    else:
        with safe_open(args.a, framework="pt") as fa, safe_open(args.b, framework="pt") as fb:
            ka, kb = set(fa.keys()), set(fb.keys())
            common = sorted(ka & kb)
            only_a, only_b = sorted(ka - kb), sorted(kb - ka)
            for key in common:
                ta, tb = fa.get_tensor(key), fb.get_tensor(key)
                if ta.shape == tb.shape:
                    results[key] = compare(ta, tb)
            memory = resident_memory()
    elapsed = time.time() - t0

    differing = {k: r for k, r in results.items() if r["mismatched"]}
    elements = sum(r["numel"] for r in results.values())
    print(f"A: {args.a}\nB: {args.b}")
    print(f"{len(common)} common tensors ({elements:,} elements), {len(results)} compared, "
          f"{len(only_a)} only in A, {len(only_b)} only in B")
    print(f"{len(differing)} tensors with elements outside tolerance, "
          f"{sum(r['mismatched'] for r in results.values()):,} elements in all")
    print("NaN/inf: A %d/%d, B %d/%d" % tuple(sum(r[f] for r in results.values())
                                           for f in ("a_nan", "a_inf", "b_nan", "b_inf")))
    worst = sorted(results.items(), key=lambda kv: -kv[1]["rel_l2"])[: args.top]
    for key, r in worst:
        print(f"  {key}: max_abs {r['max_abs']:.3g} @ {r['max_abs_index']}, mean_abs {r['mean_abs']:.3g}, "
              f"rmse {r['rmse']:.3g}, rel_l2 {r['rel_l2']:.3g}, cosine {r['cosine']:.9f}, "
              f"mismatched {r['mismatched']}/{r['numel']}")
    if not args.load_file:
        print(f"memory at the end, files still open: {memory}")
    print(f"compared in {elapsed:.1f} s (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    return 1 if differing or only_a or only_b else 0


if __name__ == "__main__":
    sys.exit(main())
