#!/usr/bin/env python3
"""Writes the legacy PyTorch fixtures of Tests/Fixtures/ckpt with the real torch.save.

Usage: Scripts/make_ckpt_fixtures.py [OUT_DIR]   (default Tests/Fixtures/ckpt)

Needs torch (2.x, from PyPI) and safetensors. Every checkpoint written with torch.save has a
.safetensors twin holding the same values (contiguous clones; safetensors refuses shared storage),
so a test can compare the two through ckdiff's engine. The hostile files are crafted here with the
standard library's pickle and zipfile; none of them is ever loaded by this script.
Deterministic: fixed seed, fixed values; torch.save's zip layout does not depend on time.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch
from safetensors.torch import save_file

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "ckpt")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(7)


def path(name):
    return os.path.join(OUT, name)


def twin(state, name):
    """The same tensors as a safetensors file (each tensor cloned contiguous)."""
    save_file({k: v.detach().clone().contiguous() for k, v in state.items()}, path(name))


def dtype_state():
    """A few tiny tensors per dtype, a scalar, an empty tensor and views of one shared storage."""
    s = collections.OrderedDict()
    s["f32.weight"] = torch.randn(3, 4)
    s["f16.weight"] = torch.randn(2, 5).half()
    s["bf16.weight"] = torch.randn(4, 2).bfloat16()
    s["f64.weight"] = torch.randn(3, dtype=torch.float64)
    s["i64.buffer"] = torch.tensor([-3, 0, 7, 2**40], dtype=torch.int64)
    s["i32.buffer"] = torch.tensor([[-5, 6], [7, -8]], dtype=torch.int32)
    s["i16.buffer"] = torch.tensor([-300, 300], dtype=torch.int16)
    s["i8.buffer"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
    s["u8.buffer"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    s["bool.mask"] = torch.tensor([True, False, True, True])
    s["f8e4m3.weight"] = (torch.randn(6) * 4).to(torch.float8_e4m3fn)   # _rebuild_tensor_v3, UntypedStorage
    s["f8e5m2.weight"] = (torch.randn(6) * 4).to(torch.float8_e5m2)
    s["u16.buffer"] = torch.tensor([1, 65535, 4096], dtype=torch.uint16)
    s["scalar"] = torch.tensor(0.125)
    s["empty"] = torch.zeros(0, 3)
    base = torch.arange(24, dtype=torch.float32) * 0.5 - 3
    s["shared.base"] = base
    s["shared.tail"] = base[10:16]               # same storage, storage_offset 10
    s["shared.grid"] = base[4:16].view(3, 4)     # same storage, storage_offset 4, 2-D
    return s


def main():
    # 1. Every dtype, a scalar, an empty tensor, shared storage with offsets (zip format).
    s = dtype_state()
    torch.save(s, path("dtypes.pt"))
    twin(s, "dtypes.safetensors")

    # 2. The same state in the legacy (pre-1.6, non-zip) format; its storages are whole, so no views.
    legacy = collections.OrderedDict((k, v) for k, v in s.items()
                                     if v.dtype not in (torch.float8_e4m3fn, torch.float8_e5m2, torch.uint16))
    torch.save(legacy, path("legacy.pt"), _use_new_zipfile_serialization=False)
    twin(legacy, "legacy.safetensors")

    # 3. A Lightning / original-SD style .ckpt: the weights under "state_dict", plus training state.
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.GroupNorm(1, 3), torch.nn.Linear(4, 2))
    weights = collections.OrderedDict(("model.diffusion_model." + k, v) for k, v in model.state_dict().items())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model(torch.randn(1, 2, 6, 6)).sum().backward()
    optimizer.step()
    torch.save({
        "epoch": 3,
        "global_step": 1234,
        "pytorch-lightning_version": "1.4.2",
        "state_dict": weights,
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [],
        "hyper_parameters": {"base_learning_rate": 1e-4, "monitor": "val/loss", "use_ema": False},
    }, path("lightning.ckpt"))
    twin(weights, "lightning.safetensors")

    # 4. OneTrainer's backup ema/ema.pt: {"decay": float, "ema_parameters": [tensor, ...]} (no names).
    ema = [p.detach().clone() for p in model.parameters()]
    torch.save({"decay": 0.999, "ema_parameters": ema}, path("ema.pt"))
    twin({f"ema_parameters.{i}": t for i, t in enumerate(ema)}, "ema.safetensors")

    # 5. nn.Parameter objects (torch._utils._rebuild_parameter), as some scripts save them.
    params = collections.OrderedDict((k, torch.nn.Parameter(v.clone())) for k, v in list(weights.items())[:2])
    torch.save(params, path("parameters.pth"))
    twin(params, "parameters.safetensors")

    # 5b. A module's own state_dict() (an OrderedDict carrying _metadata, pickled with BUILD).
    torch.save(model.state_dict(), path("module_state.pt"))
    twin(model.state_dict(), "module_state.safetensors")

    # 5c. The dtypes file re-packed with zip64 records for every entry (as torch writes past 4 GB):
    # zipfile writes zip64 extra fields only above ZIP64_LIMIT, so lower the limit while writing.
    zip64_copy(path("dtypes.pt"), path("zip64.pt"))

    # 6. A non-contiguous tensor (a transposed view): refused, naming the tensor.
    torch.save({"transposed": torch.arange(6.).view(2, 3).t()}, path("noncontiguous.pt"))

    # 7. Hostile files. Never loaded here; ckdiff must refuse them naming the global.
    hostile()
    write_readme()


class Reduce:
    """An object whose pickle calls `func(*args)` when loaded."""
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class Unknown:
    """A plain class from outside the allow-list (pickled as copyreg / __main__.Unknown)."""
    def __init__(self):
        self.payload = 1


def zip_checkpoint(name, pickle_bytes, compress=False, extra=None):
    """A zip laid out like torch.save's: archive/data.pkl, byteorder, version."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path(name), "w", compression=method) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
        for entry, data in (extra or {}).items():
            z.writestr(entry, data)


def zip64_copy(source, target):
    """Copies a torch zip entry by entry (stored, 64-byte aligned like torch) with zip64 sizes and offsets."""
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as dst:
            for info in src.infolist():
                dst.writestr(zipfile.ZipInfo(info.filename), src.read(info.filename))
    finally:
        zipfile.ZIP64_LIMIT = limit
    loaded = torch.load(target, weights_only=True)  # torch itself reads the copy
    assert all(torch.equal(loaded[k].view(torch.uint8) if loaded[k].dtype.itemsize == 1 else loaded[k], v.view(torch.uint8) if v.dtype.itemsize == 1 else v)
               for k, v in torch.load(source, weights_only=True).items())


def hostile():
    import builtins
    import posix
    # os.system is posix.system on Linux: GLOBAL 'posix system'.
    zip_checkpoint("evil_system.pt", pickle.dumps({"w": Reduce(posix.system, ("echo pwned > /tmp/ckdiff-pwned",))}, protocol=2))
    zip_checkpoint("evil_eval.ckpt", pickle.dumps({"state_dict": Reduce(builtins.eval, ("__import__('os')",))}, protocol=2))
    # A reduce of builtins.getattr(__import__("os"), "system"), through protocol 4's STACK_GLOBAL.
    zip_checkpoint("evil_getattr.pt", pickle.dumps(
        Reduce(getattr, (Reduce(builtins.__import__, ("os",)), "system")), protocol=4))
    # An unknown class (instantiated through copyreg._reconstructor or NEWOBJ by pickle).
    zip_checkpoint("evil_class.pt", pickle.dumps({"obj": Unknown()}, protocol=2))
    # The legacy (non-zip) format is a bare pickle stream: same refusal.
    with open(path("evil_legacy.pt"), "wb") as f:
        f.write(pickle.dumps(Reduce(posix.system, ("echo pwned",)), protocol=2))
    # A torch.save'd state whose data.pkl is deflated: refused as compressed, never inflated.
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(path("compressed.pt"), "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))


def write_readme():
    torch_version = torch.__version__
    names = sorted(os.listdir(OUT))
    sizes = {n: os.path.getsize(path(n)) for n in names if n != "README.md"}
    with open(path("README.md"), "w") as f:
        f.write(f"""# Legacy PyTorch checkpoints (`.pt`, `.pth`, `.ckpt`)

Written by `Scripts/make_ckpt_fixtures.py` with the real `torch.save` of torch {torch_version} (PyPI) and
`safetensors.torch.save_file`; re-run the script to regenerate them (output is deterministic).

| file | what |
|---|---|
| `dtypes.pt` + `.safetensors` | zip format: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 and U16 (the last three through `_rebuild_tensor_v3` and `UntypedStorage`), a 0-rank scalar, an empty `[0, 3]` tensor, and three tensors sharing one storage (`shared.tail` at storage offset 10, `shared.grid` a `[3, 4]` view at offset 4) |
| `legacy.pt` + `.safetensors` | the same state without the new dtypes, saved with `_use_new_zipfile_serialization=False` (magic number, protocol, sys_info, state pickle, storage keys, raw storages) |
| `lightning.ckpt` + `lightning.safetensors` | a Lightning / original-SD style file: `state_dict` (keys `model.diffusion_model.*`), `global_step`, `epoch`, `optimizer_states` (AdamW, with tensors), `hyper_parameters`; the twin holds the `state_dict` only |
| `ema.pt` + `.safetensors` | OneTrainer's backup `ema/ema.pt` shape: `{{"decay": 0.999, "ema_parameters": [tensor, …]}}`; the twin names the list items `ema_parameters.N` |
| `parameters.pth` + `.safetensors` | `nn.Parameter` values (`torch._utils._rebuild_parameter`) |
| `module_state.pt` + `.safetensors` | `nn.Module.state_dict()` itself: an `OrderedDict` with `_metadata`, pickled through `BUILD` |
| `zip64.pt` | `dtypes.pt` copied entry by entry by Python's `zipfile` with zip64 extra fields on every entry (sizes and offsets), as archives over 4 GB have; `torch.load` reads it back equal |
| `noncontiguous.pt` | a transposed (non-contiguous) view: refused naming the tensor |
| `evil_system.pt` | zip whose `data.pkl` reduces `posix.system` (what `os.system` pickles as on Linux) |
| `evil_eval.ckpt` | zip whose `data.pkl` reduces `builtins.eval` under `state_dict` |
| `evil_getattr.pt` | protocol-4 pickle (`STACK_GLOBAL`) reducing `builtins.getattr(__import__("os"), "system")` |
| `evil_class.pt` | a plain class from outside the allow-list (`copyreg._reconstructor`) |
| `evil_legacy.pt` | a bare pickle stream (the legacy format's first pickle) reducing `posix.system` |
| `compressed.pt` | a `torch.save` zip re-written with deflated entries: refused, never inflated |

Sizes in bytes: {json.dumps(sizes)}.
""")


main()
