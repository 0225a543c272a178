#!/usr/bin/env python3
"""Writes fixtures/pytorch: fixtures/models/tiny-encoder as PyTorch `pytorch_model.bin` checkpoints.

Every variant is written by the real torch.save (zip format, torch >= 1.6) from the state dict of
`BertModel.from_pretrained(fixtures/models/tiny-encoder)`, and each folder gets the source's config.json,
vocab.txt, tokenizer_config.json, modules.json and 1_Pooling/ copied byte for byte:

- `tiny-encoder/`: `torch.save(model.state_dict())`, float32.
- `tiny-encoder-f16/`, `tiny-encoder-bf16/`: the state dict converted with `.half()` / `.bfloat16()`.
- `tiny-encoder-views/`: the same float32 values, but every LayerNorm weight and bias is a view into ONE
  shared flat storage (at different storage offsets), and every attention query/key/value weight is a
  transposed view (`w.t().contiguous().t()`: strides (1, rows)), so the reader must honour storage
  offsets, strides and shared storages.
- `tiny-encoder-sharded/`: the state dict split into `pytorch_model-00001-of-00002.bin` (embeddings) and
  `pytorch_model-00002-of-00002.bin` (the rest) plus `pytorch_model.bin.index.json` (`weight_map`).
- `tiny-encoder-deflated/`: `tiny-encoder/pytorch_model.bin` re-zipped by python's zipfile with
  ZIP_DEFLATED (every entry deflated, same names and bytes).
- `zip64/embeddings.bin`: shard 1 of the sharded variant (the three embedding tables and their LayerNorm)
  re-zipped (stored) by python's zipfile with its zip64 thresholds patched to 0, so every central-directory
  entry carries a zip64 extra field (sizes, offset) and the archive ends with a zip64 end record and locator.
- `malicious/pytorch_model.bin`: a zip in torch's layout whose data.pkl is a state dict holding an object
  that reduces to `os.system('echo pwned')` (GLOBAL 'os system' + REDUCE), written with pickle's opcodes
  directly; `malicious/posix-system.bin`: the same through `pickle.dumps` of an object whose
  `__reduce__` returns `os.system` (pickle names it 'posix system' on Linux). Never loaded here.
- `inflate/`: raw deflate streams (zlib wbits -15) of test data and the originals: `text.bin` (dynamic
  Huffman, level 9), `text-fixed.deflate` (zlib.Z_FIXED strategy), `text-stored.deflate` (level 0),
  `random.bin` (incompressible: stored blocks), `runs.bin` (long runs: distance-1 matches), `mixed.deflate` (text.bin + random.bin: a dynamic block,
  a full flush, then stored blocks).

Deterministic: torch.manual_seed / fixed data; rerunning rewrites identical files (torch.save writes no
timestamps). Usage: python3 tools/make_torch_fixtures.py   (torch 2.13 cpu, transformers 5.24)
"""
import io
import json
import os
import pickle
import random
import shutil
import zipfile
import zlib

import torch
from transformers import BertModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "fixtures", "models", "tiny-encoder")
OUT = os.path.join(ROOT, "fixtures", "pytorch")
SIDE = ["config.json", "vocab.txt", "tokenizer_config.json", "modules.json", "1_Pooling"]


def folder(name):
    d = os.path.join(OUT, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    for s in SIDE:
        p = os.path.join(SRC, s)
        if os.path.isdir(p):
            shutil.copytree(p, os.path.join(d, s))
        else:
            shutil.copyfile(p, os.path.join(d, s))
    return d


def views_state_dict(sd):
    """Same values; LayerNorms share one storage; q/k/v weights are transposed views."""
    out = {}
    ln = [k for k in sd if "LayerNorm" in k]
    flat = torch.cat([torch.zeros(3)] + [t.reshape(-1) for k in ln for t in [sd[k], torch.zeros(1)]])
    off = 3
    for k, v in sd.items():
        if k in ln:
            n = v.numel()
            out[k] = flat[off:off + n].view(v.shape)
            off += n + 1
        elif any(k.endswith("attention.self.%s.weight" % p) for p in ("query", "key", "value")):
            t = v.t().contiguous().t()
            assert not t.is_contiguous() and torch.equal(t, v)
            out[k] = t
        else:
            out[k] = v
    for k in ln:
        assert out[k].untyped_storage().data_ptr() == flat.untyped_storage().data_ptr()
        assert torch.equal(out[k], sd[k])
    return out


def malicious_pickle():
    """A protocol-2 state-dict pickle whose value calls os.system('echo pwned') when unpickled."""
    P = pickle
    return (P.PROTO + b"\x02" + P.EMPTY_DICT + P.BINPUT + b"\x00"
            + P.SHORT_BINUNICODE + b"\x06weight" + P.BINPUT + b"\x01"
            + P.GLOBAL + b"os\nsystem\n" + P.BINPUT + b"\x02"
            + P.SHORT_BINUNICODE + b"\x0aecho pwned" + P.TUPLE1 + P.REDUCE
            + P.SETITEM + P.STOP)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def torch_like_zip(path, pkl):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in [("archive/data.pkl", pkl), ("archive/byteorder", b"little"), ("archive/version", b"3\n")]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)


def main():
    torch.manual_seed(0)
    model = BertModel.from_pretrained(SRC).eval()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}

    d = folder("tiny-encoder")
    torch.save(sd, os.path.join(d, "pytorch_model.bin"))
    d = folder("tiny-encoder-f16")
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}, os.path.join(d, "pytorch_model.bin"))
    d = folder("tiny-encoder-bf16")
    torch.save({k: (v.bfloat16() if v.is_floating_point() else v) for k, v in sd.items()}, os.path.join(d, "pytorch_model.bin"))
    d = folder("tiny-encoder-views")
    torch.save(views_state_dict(sd), os.path.join(d, "pytorch_model.bin"))

    d = folder("tiny-encoder-sharded")
    names = list(sd)
    shards = [[k for k in names if k.startswith("embeddings.")], [k for k in names if not k.startswith("embeddings.")]]
    wmap = {}
    for i, keys in enumerate(shards):
        fn = "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(shards))
        torch.save({k: sd[k] for k in keys}, os.path.join(d, fn))
        for k in keys:
            wmap[k] = fn
    total = sum(v.numel() * v.element_size() for v in sd.values())
    with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(wmap.items()))}, f, indent=2)
        f.write("\n")

    d = folder("tiny-encoder-deflated")
    with zipfile.ZipFile(os.path.join(OUT, "tiny-encoder", "pytorch_model.bin")) as src, \
            zipfile.ZipFile(os.path.join(d, "pytorch_model.bin"), "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            ni = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            ni.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(ni, src.read(info.filename))

    d = os.path.join(OUT, "zip64")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    limits = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
    try:
        with zipfile.ZipFile(os.path.join(OUT, "tiny-encoder-sharded", "pytorch_model-00001-of-00002.bin")) as src, \
                zipfile.ZipFile(os.path.join(d, "embeddings.bin"), "w", zipfile.ZIP_STORED, allowZip64=True) as dst:
            for info in src.infolist():
                ni = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                dst.writestr(ni, src.read(info.filename))
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits

    d = os.path.join(OUT, "malicious")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch_like_zip(os.path.join(d, "pytorch_model.bin"), malicious_pickle())
    torch_like_zip(os.path.join(d, "posix-system.bin"), pickle.dumps({"weight": Evil()}, protocol=2))

    d = os.path.join(OUT, "inflate")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    rng = random.Random(42)
    words = open(os.path.join(SRC, "vocab.txt"), encoding="utf-8").read().split()
    text = " ".join(rng.choice(words) for _ in range(3000)).encode()
    data = {"text": text, "random": bytes(rng.getrandbits(8) for _ in range(8000)),
            "runs": b"a" * 20000 + b"xy" * 500 + bytes(range(256)) * 4}

    def raw(b, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
        return c.compress(b) + c.flush()

    for name, b in data.items():
        open(os.path.join(d, name + ".bin"), "wb").write(b)
        open(os.path.join(d, name + ".deflate"), "wb").write(raw(b))
    open(os.path.join(d, "text-fixed.deflate"), "wb").write(raw(text, 9, zlib.Z_FIXED))
    open(os.path.join(d, "text-stored.deflate"), "wb").write(raw(text, 0))
    # A dynamic block, a full flush (an empty stored block after it) and the random bytes: text.bin + random.bin.
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    mixed = c.compress(text) + c.flush(zlib.Z_FULL_FLUSH) + c.compress(data["random"]) + c.flush()
    assert zlib.decompress(mixed, -15) == text + data["random"]
    open(os.path.join(d, "mixed.deflate"), "wb").write(mixed)


if __name__ == "__main__":
    main()
