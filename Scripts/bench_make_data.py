#!/usr/bin/env python3
"""Generate full-size SDXL-shaped single-file checkpoints for the ckdiff benchmark.

Keys and shapes come from Scripts/data/sdxl-sgm-listing.json, a copy of sd-mecha's sdxl-sgm
model config. The files keep the 2480 non-optional keys. Of the 51 optional keys they keep the 35
text-encoder keys that the published single-file SDXL base checkpoint also carries:
* CLIP-L: layer 11, final_layer_norm and position_ids;
* OpenCLIP-G: resblock 31, ln_final, text_projection and logit_scale.
That gives 2515 tensors. They drop the EDM/v-pred markers (edm_vpred.*, v_pred, ztsnr) and the
12 LDM scheduler buffers, which an SGM checkpoint does not have. With F16 everywhere except
position_ids (I64), the data section is 6,937,676,352 bytes.

Files (in DIR):
  sdxl-A.safetensors          F16, random normal * 0.02 (seeded), position_ids = arange(77)
  sdxl-A-copy.safetensors     byte-identical copy of A (pair P1: A vs A-copy)
  sdxl-B-perturbed.safetensors  A with small noise (N(0, 1e-4) before rounding to F16) added to
                              30% of the float tensors, chosen by a seeded permutation (pair P2)
  sdxl-C-bf16.safetensors     A's float tensors cast to BF16 (round to nearest even), I64 kept (P3)

The writer streams: header first, then tensor data in order, in chunks of at most 8M elements,
so memory stays near a few hundred MB. Each file is written under a temporary name and renamed
when complete. Next to it, <file>.desc.json records what it holds. A later run reuses the file
when that description and the file size match, and regenerates it otherwise.

Usage: bench_make_data.py --dir DIR [--listing PATH] [--only A,A-copy,B,C] [--plan]
  --plan  print the bytes still to write and exit (the bench script uses this for its disk check)
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time

import numpy as np

GENERATOR_VERSION = 1
SEED = 20260323
CHUNK = 8 * 1024 * 1024  # elements per generated chunk
PERTURB_FRACTION = 0.30
PERTURB_SIGMA = 1e-4
VALUE_SCALE = 0.02

KEPT_OPTIONAL_COMPONENTS = ("clip_l", "clip_g")

NAMES = {
    "A": "sdxl-A.safetensors",
    "A-copy": "sdxl-A-copy.safetensors",
    "B": "sdxl-B-perturbed.safetensors",
    "C": "sdxl-C-bf16.safetensors",
}


def load_listing(path):
    with open(path, "rb") as f:
        raw = f.read()
    listing = json.loads(raw)
    keys = {k: v for k, v in listing.items()
            if not v["optional"] or v["component"] in KEPT_OPTIONAL_COMPONENTS}
    return keys, hashlib.sha256(raw).hexdigest()


def layout(keys, float_dtype):
    """[(name, dtype, shape, begin, end)] in the safetensors library's order (wider dtypes first, then name)."""
    entries = []
    for name, v in keys.items():
        dtype = "I64" if v["dtype"] == "int64" else float_dtype
        entries.append((name, dtype, list(v["shape"])))
    width = {"I64": 8, "F16": 2, "BF16": 2}
    entries.sort(key=lambda e: (-width[e[1]], e[0]))
    out, offset = [], 0
    for name, dtype, shape in entries:
        size = math.prod(shape) * width[dtype]
        out.append((name, dtype, shape, offset, offset + size))
        offset += size
    return out


def header_bytes(entries):
    header = {"__metadata__": {"format": "pt"}}
    for name, dtype, shape, begin, end in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text


def file_size(entries):
    return len(header_bytes(entries)) + (entries[-1][4] if entries else 0)


def perturbed_names(entries):
    floats = sorted(name for name, dtype, *_ in entries if dtype != "I64")
    rng = np.random.default_rng([SEED, 2])
    count = round(PERTURB_FRACTION * len(floats))
    return set(floats[i] for i in rng.permutation(len(floats))[:count])


def description(kind, listing_sha):
    d = {"generator": "Scripts/bench_make_data.py", "version": GENERATOR_VERSION, "listing_sha256": listing_sha,
         "seed": SEED, "value_scale": VALUE_SCALE, "kind": kind}
    if kind == "B":
        d.update(perturb_fraction=PERTURB_FRACTION, perturb_sigma=PERTURB_SIGMA)
    return d


def is_current(path, desc, size):
    try:
        with open(path + ".desc.json") as f:
            old = json.load(f)
        return old == desc and os.path.getsize(path) == size
    except (OSError, ValueError):
        return False


def f16_to_bf16_bits(h):
    """F16 array -> BF16 bit patterns (exact widening to F32, then round to nearest even)."""
    u = h.astype(np.float32).view(np.uint32)
    u += np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (u >> np.uint32(16)).astype(np.uint16)


class Progress:
    def __init__(self, label, total):
        self.label, self.total, self.done, self.t0, self.last = label, total, 0, time.time(), 0.0

    def add(self, n):
        self.done += n
        now = time.time()
        if now - self.last > 5 or self.done == self.total:
            self.last = now
            rate = self.done / max(now - self.t0, 1e-9) / 1e6
            print(f"  {self.label}: {self.done / 1e9:.2f}/{self.total / 1e9:.2f} GB ({rate:.0f} MB/s)",
                  file=sys.stderr, flush=True)


def write_stream(path, entries, chunks_for, desc):
    tmp = path + ".partial"
    total = entries[-1][4]
    progress = Progress(os.path.basename(path), total)
    with open(tmp, "wb") as f:
        f.write(header_bytes(entries))
        for index, (name, dtype, shape, begin, end) in enumerate(entries):
            written = 0
            for chunk in chunks_for(index, name, dtype, shape, begin, end):
                f.write(memoryview(np.ascontiguousarray(chunk)).cast("B"))
                written += chunk.nbytes
                progress.add(chunk.nbytes)
            if written != end - begin:
                raise SystemExit(f"internal error: {name}: wrote {written} bytes, expected {end - begin}")
    os.rename(tmp, path)
    with open(path + ".desc.json", "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)


def element_chunks(n):
    start = 0
    while start < n:
        yield start, min(n, start + CHUNK)
        start += CHUNK


def make_a(path, entries, desc):
    def chunks(index, name, dtype, shape, begin, end):
        n = math.prod(shape)
        if dtype == "I64":
            yield np.arange(n, dtype=np.int64) % shape[-1]
            return
        rng = np.random.default_rng([SEED, 1, index])
        for s, e in element_chunks(n):
            x = rng.standard_normal(e - s, dtype=np.float32)
            x *= np.float32(VALUE_SCALE)
            yield x.astype(np.float16)
    write_stream(path, entries, chunks, desc)


def read_chunks(src, data_start, dtype, begin, end):
    np_dtype = {"I64": np.int64, "F16": np.float16}[dtype]
    width = np.dtype(np_dtype).itemsize
    n = (end - begin) // width
    for s, e in element_chunks(n):
        src.seek(data_start + begin + s * width)
        buf = src.read((e - s) * width)
        if len(buf) != (e - s) * width:
            raise SystemExit(f"{src.name}: short read")
        yield np.frombuffer(buf, dtype=np_dtype)


def make_derived(path, a_path, a_entries, entries, desc, transform):
    data_start = len(header_bytes(a_entries))
    a_by_name = {e[0]: e for e in a_entries}
    with open(a_path, "rb") as src:
        def chunks(index, name, dtype, shape, begin, end):
            _, a_dtype, _, a_begin, a_end = a_by_name[name]
            for i, x in enumerate(read_chunks(src, data_start, a_dtype, a_begin, a_end)):
                yield transform(index, name, i, x)
        write_stream(path, entries, chunks, desc)


def copy_file(src_path, dst_path, desc):
    """Plain read/write copy (no reflink, no copy_file_range): a separate, byte-identical file."""
    tmp = dst_path + ".partial"
    total = os.path.getsize(src_path)
    progress = Progress(os.path.basename(dst_path), total)
    with open(src_path, "rb") as src, open(tmp, "wb") as dst:
        while True:
            buf = src.read(8 * 1024 * 1024)
            if not buf:
                break
            dst.write(buf)
            progress.add(len(buf))
    os.rename(tmp, dst_path)
    with open(dst_path + ".desc.json", "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--listing", default=os.path.join(here, "data", "sdxl-sgm-listing.json"))
    ap.add_argument("--only", default="A,A-copy,B,C")
    ap.add_argument("--plan", action="store_true")
    args = ap.parse_args()

    keys, listing_sha = load_listing(args.listing)
    f16 = layout(keys, "F16")
    bf16 = layout(keys, "BF16")
    os.makedirs(args.dir, exist_ok=True)
    paths = {k: os.path.join(args.dir, v) for k, v in NAMES.items()}
    wanted = [k for k in ("A", "A-copy", "B", "C") if k in args.only.split(",")]
    if any(k != "A" for k in wanted) and "A" not in wanted:
        wanted.insert(0, "A")
    plan = {k: (description(k, listing_sha), file_size(bf16 if k == "C" else f16)) for k in wanted}
    todo = [k for k in wanted if not is_current(paths[k], *plan[k])]
    # derived files depend on A: if A is regenerated, so are they
    if "A" in todo:
        todo = wanted
    need = sum(plan[k][1] for k in todo)

    if args.plan:
        print(need)
        return
    print(f"{len(keys)} tensors, {f16[-1][4]:,} data bytes per F16 file; to write: "
          f"{', '.join(todo) or 'nothing'} ({need / 1e9:.1f} GB)", file=sys.stderr)
    st = os.statvfs(args.dir)
    free = st.f_bavail * st.f_frsize
    if need and free < need + (1 << 30):
        raise SystemExit(f"not enough free space in {args.dir}: need {need / 1e9:.1f} GB + 1 GB, have {free / 1e9:.1f} GB")

    for k in todo:
        if os.path.exists(paths[k] + ".desc.json"):
            os.remove(paths[k] + ".desc.json")
    t0 = time.time()
    if "A" in todo:
        make_a(paths["A"], f16, plan["A"][0])
    if "A-copy" in todo:
        copy_file(paths["A"], paths["A-copy"], plan["A-copy"][0])
    if "B" in todo:
        chosen = perturbed_names(f16)

        def perturb(index, name, i, x):
            if name not in chosen:
                return x
            rng = np.random.default_rng([SEED, 3, index, i])
            noise = rng.standard_normal(x.size, dtype=np.float32)
            noise *= np.float32(PERTURB_SIGMA)
            noise += x.astype(np.float32)
            return noise.astype(np.float16)
        make_derived(paths["B"], paths["A"], f16, f16, plan["B"][0], perturb)
    if "C" in todo:
        def to_bf16(index, name, i, x):
            return x if x.dtype == np.int64 else f16_to_bf16_bits(x)
        make_derived(paths["C"], paths["A"], f16, bf16, plan["C"][0], to_bf16)
    if todo:
        print(f"generated in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
