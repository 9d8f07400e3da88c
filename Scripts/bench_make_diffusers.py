#!/usr/bin/env python3
"""Write a full-size diffusers SDXL folder holding the same weights as an SGM single file.

The benchmark's cross-layout pair X1 compares bench-data/sdxl-A.safetensors (SGM layout) with
bench-data/sdxl-A-diffusers/, the same weights as diffusers writes them. The key mapping is not
re-implemented here: it is the table ckdiff itself prints,

    ckdiff map --arch sdxl --from sgm --to diffusers --json

and this script applies its transforms to the data, the way the diffusers loader
(single_file_utils.py) converts an SGM file:
  * rows {"index": i, "count": 3}: OpenCLIP's fused in_proj_weight/in_proj_bias [3C, ...] is cut
    into q, k, v (rows i*C .. (i+1)*C);
  * transpose: OpenCLIP's text_projection [C, P] becomes text_projection.weight [P, C];
  * reshape: the VAE attention 1x1 convolutions [C, C, 1, 1] become linear weights [C, C];
  * identity: the bytes are copied unchanged.
Keys the map has no diffusers name for (CLIP-L position_ids, OpenCLIP logit_scale) are not
written, as diffusers/transformers do not save them. Dtypes are kept (F16 in, F16 out).

Output (DIR/sdxl-A-diffusers/): model_index.json, scheduler/scheduler_config.json, and
unet/, vae/, text_encoder/, text_encoder_2/ each with a config.json (SDXL base sizes) and one
safetensors file (diffusion_pytorch_model.safetensors or model.safetensors) laid out as
safetensors.torch.save_file does (wider dtypes first, then by name; header padded to 8 bytes).
The folder is built under a temporary name and renamed when complete; a description file next to
it records the source size and mtime and the map's sha256, and a later run with the same inputs
reuses the folder.

Usage: bench_make_diffusers.py --source FILE --map MAP.json --out FOLDER [--plan]
  --plan  print the bytes still to write and exit
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import time

import numpy as np

GENERATOR_VERSION = 1
CHUNK_BYTES = 16 * 1024 * 1024

WEIGHT_FILES = {
    "unet": "diffusion_pytorch_model.safetensors",
    "vae": "diffusion_pytorch_model.safetensors",
    "text_encoder": "model.safetensors",
    "text_encoder_2": "model.safetensors",
}

DTYPE = {"F16": np.float16, "BF16": np.uint16, "F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
WIDTH = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4}

# Configs with the SDXL base sizes (diffusers 0.42 / transformers 5 field names); ckdiff reads only
# _class_name / architectures, the rest documents what the weights are.
CONFIGS = {
    "model_index.json": {
        "_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.42.1",
        "feature_extractor": [None, None], "force_zeros_for_empty_prompt": True, "image_encoder": [None, None],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": [None, None], "tokenizer_2": [None, None],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
    },
    "scheduler/scheduler_config.json": {
        "_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.42.1",
        "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
        "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading",
    },
    "unet/config.json": {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.42.1",
        "act_fn": "silu", "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
        "attention_head_dim": [5, 10, 20], "block_out_channels": [320, 640, 1280],
        "cross_attention_dim": 2048, "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
        "in_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 4,
        "projection_class_embeddings_input_dim": 2816, "sample_size": 128,
        "transformer_layers_per_block": [1, 2, 10],
        "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "use_linear_projection": True,
    },
    "vae/config.json": {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.42.1",
        "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
        "down_block_types": ["DownEncoderBlock2D"] * 4, "in_channels": 3, "latent_channels": 4,
        "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 1024,
        "scaling_factor": 0.13025, "up_block_types": ["UpDecoderBlock2D"] * 4,
    },
    "text_encoder/config.json": {
        "architectures": ["CLIPTextModel"], "model_type": "clip_text_model", "hidden_act": "quick_gelu",
        "hidden_size": 768, "intermediate_size": 3072, "max_position_embeddings": 77,
        "num_attention_heads": 12, "num_hidden_layers": 12, "projection_dim": 768, "vocab_size": 49408,
        "torch_dtype": "float16",
    },
    "text_encoder_2/config.json": {
        "architectures": ["CLIPTextModelWithProjection"], "model_type": "clip_text_model", "hidden_act": "gelu",
        "hidden_size": 1280, "intermediate_size": 5120, "max_position_embeddings": 77,
        "num_attention_heads": 20, "num_hidden_layers": 32, "projection_dim": 1280, "vocab_size": 49408,
        "torch_dtype": "float16",
    },
}


def read_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header, 8 + n


def plan_outputs(header, rows):
    """{folder: [(key, dtype, shape, source, rows, transform)]} and the source keys left unwritten."""
    out = {folder: [] for folder in WEIGHT_FILES}
    used = set()
    for r in rows:
        source, target = r["source"], r["target"]
        if source is None or target is None:
            continue
        if r.get("target_rows"):
            raise SystemExit(f"{target}: the map fuses rows on the diffusers side; this script only cuts them")
        folder, key = target.split("/", 1)
        if folder not in out:
            raise SystemExit(f"{target}: no weight file for folder {folder}")
        info = header.get(source)
        if info is None:
            raise SystemExit(f"{source}: in the map but not in the source file")
        shape = list(info["shape"])
        part = None
        if r.get("source_rows"):
            count, index = r["source_rows"]["count"], r["source_rows"]["index"]
            if shape[0] % count:
                raise SystemExit(f"{source}: {shape[0]} rows do not split in {count}")
            step = shape[0] // count
            part = (index * step, (index + 1) * step)
            shape = [step] + shape[1:]
        transform = r["transform"]
        if transform == "transpose":
            if len(shape) != 2:
                raise SystemExit(f"{source}: transpose of a {len(shape)}-D tensor")
            shape = shape[::-1]
        elif transform == "reshape":
            # SGM -> diffusers: 1x1 convolutions [C, C, 1, 1] become linear [C, C]
            if len(shape) > 2 and all(d == 1 for d in shape[2:]):
                shape = shape[:2]
            else:
                raise SystemExit(f"{source}: reshape of {shape} is not a 1x1 convolution")
        out[folder].append((key, info["dtype"], shape, source, part, transform))
        used.add(source)
    return out, sorted(set(header) - used)


def layout(entries):
    ordered = sorted(entries, key=lambda e: (-WIDTH[e[1]], e[0]))
    placed, offset = [], 0
    for key, dtype, shape, source, part, transform in ordered:
        size = math.prod(shape) * WIDTH[dtype]
        placed.append((key, dtype, shape, source, part, transform, offset, offset + size))
        offset += size
    return placed


def header_bytes(placed):
    header = {"__metadata__": {"format": "pt"}}
    for key, dtype, shape, *_rest, begin, end in placed:
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text


def write_file(path, placed, src, src_header, data_start, progress):
    with open(path, "wb") as f:
        f.write(header_bytes(placed))
        for key, dtype, shape, source, part, transform, begin, end in placed:
            info = src_header[source]
            s_begin, s_end = info["data_offsets"]
            width = WIDTH[dtype]
            if part is not None:
                row = math.prod(info["shape"][1:]) * width
                s_begin, s_end = s_begin + part[0] * row, s_begin + part[1] * row
            if transform == "transpose":
                a = np.frombuffer(src[data_start + s_begin:data_start + s_end], dtype=DTYPE[dtype])
                rows, cols = shape[1], shape[0]  # the source view is [rows, cols]
                data = np.ascontiguousarray(a.reshape(rows, cols).T).tobytes()
                f.write(data)
                progress(len(data))
            else:
                pos = data_start + s_begin
                stop = data_start + s_end
                while pos < stop:
                    n = min(CHUNK_BYTES, stop - pos)
                    f.write(src[pos:pos + n])
                    progress(n)
                    pos += n
            if f.tell() != len(header_bytes(placed)) + end:
                raise SystemExit(f"internal error: {path}: {key} ends at {f.tell()}")


def description(source, map_sha):
    st = os.stat(source)
    return {"generator": "Scripts/bench_make_diffusers.py", "version": GENERATOR_VERSION,
            "source": os.path.basename(source), "source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns,
            "map_sha256": map_sha}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plan", action="store_true")
    args = ap.parse_args()

    raw = open(args.map, "rb").read()
    rows = json.loads(raw)["rows"]
    header, data_start = read_header(args.source)
    outputs, unwritten = plan_outputs(header, rows)
    placed = {folder: layout(entries) for folder, entries in outputs.items()}
    need = sum(len(header_bytes(p)) + (p[-1][7] if p else 0) for p in placed.values())
    desc = description(args.source, hashlib.sha256(raw).hexdigest())
    desc_path = args.out.rstrip("/") + ".desc.json"
    try:
        current = json.load(open(desc_path)) == desc and os.path.isdir(args.out)
    except (OSError, ValueError):
        current = False
    if args.plan:
        print(0 if current else need)
        return
    if current:
        print(f"{args.out}: up to date", file=sys.stderr)
        return
    print(f"{sum(len(e) for e in outputs.values())} tensors to write ({need / 1e9:.2f} GB); "
          f"not written (no diffusers name): {', '.join(unwritten) or 'none'}", file=sys.stderr)
    for folder, entries in outputs.items():
        if not entries:
            raise SystemExit(f"the map gives no tensor for {folder}/")

    if os.path.exists(desc_path):
        os.remove(desc_path)
    tmp = args.out.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, config in CONFIGS.items():
        os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
        with open(os.path.join(tmp, name), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
    src = np.memmap(args.source, dtype=np.uint8, mode="r")
    t0, done, last = time.time(), [0], [0.0]

    def progress(n):
        done[0] += n
        now = time.time()
        if now - last[0] > 5 or done[0] >= need:
            last[0] = now
            print(f"  {done[0] / 1e9:.2f}/{need / 1e9:.2f} GB ({done[0] / max(now - t0, 1e-9) / 1e6:.0f} MB/s)",
                  file=sys.stderr, flush=True)
    for folder, p in placed.items():
        write_file(os.path.join(tmp, folder, WEIGHT_FILES[folder]), p, src, header, data_start, progress)
    del src
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(tmp, args.out)
    with open(desc_path, "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)
    print(f"{args.out}: written in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
