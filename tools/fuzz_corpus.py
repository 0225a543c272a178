#!/usr/bin/env python3
"""Builds the seed corpus of the fuzz targets (fuzzing/) from fixtures/ into OUT/<target>/ (default
.models/fuzz-corpus). Small seeds are preferred: libFuzzer runs faster on them. Artifacts are compiled
with the bertc binary given by --bertc. Only the standard library is used (no torch needed).

usage: tools/fuzz_corpus.py --bertc PATH [--out DIR]
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(rel):
    with open(os.path.join(FIX, rel), "rb") as f:
        return f.read()


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def seeds_safetensors(out):
    for rel in ["masked/encoder-mask50/masks.safetensors",
                "models/tiny-encoder-sharded/model-00003-of-00003.safetensors",
                "models/tiny-encoder/model.safetensors"]:
        put(out, "safetensors", rel.replace("/", "_"), read(rel))
    f32 = struct.pack("<6f", 1, -2, 0.5, 3, 0, 7)
    put(out, "safetensors", "small-dtypes.safetensors", safetensors([
        ("a.weight", "F32", [2, 3], f32),
        ("b.bias", "F16", [3], struct.pack("<3e", 1, -0.5, 2)),
        ("c.weight", "BF16", [2], b"\x80\x3f\x00\xc0"),
        ("d.weight_mask", "BOOL", [2, 2], b"\x01\x00\x01\x01"),
        ("e.mask", "I64", [2], struct.pack("<2q", 1, 0)),
        ("f.mask_scores", "F32", [1], struct.pack("<f", -1)),
        ("g", "U8", [0], b""),
    ], {"format": "pt"}))
    put(out, "safetensors", "scalar.safetensors", safetensors([("x", "F32", [], struct.pack("<f", 1))]))


def seeds_tfindex(out):
    put(out, "tfindex", "tiny-encoder-f16.index", read("tf/tiny-encoder-f16/bert_model.ckpt.index"))
    put(out, "tfindex", "tiny-classifier.index", read("tf/tiny-classifier/model.ckpt.index"))


def seeds_pytorch(out):
    for rel in ["pytorch/malicious/posix-system.bin", "pytorch/malicious/pytorch_model.bin",
                "pytorch/zip64/embeddings.bin", "pytorch/tiny-encoder-f16/pytorch_model.bin",
                "pytorch/inflate/runs.deflate", "pytorch/inflate/text-fixed.deflate"]:
        put(out, "pytorch", rel.replace("/", "_"), read(rel))
    # The pickles alone, and a small archive rebuilt with deflated entries and a few storages only.
    src = zipfile.ZipFile(os.path.join(FIX, "pytorch/tiny-encoder-views/pytorch_model.bin"))
    for info in src.infolist():
        if info.filename.endswith("data.pkl"):
            put(out, "pytorch", "views-data.pkl", src.read(info))
    src = zipfile.ZipFile(os.path.join(FIX, "pytorch/tiny-encoder-f16/pytorch_model.bin"))
    put(out, "pytorch", "f16-data.pkl", next(src.read(i) for i in src.infolist() if i.filename.endswith("data.pkl")))
    with tempfile.TemporaryDirectory() as t:
        p = os.path.join(t, "small.bin")
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for info in src.infolist():
                data = src.read(info)
                z.writestr(info.filename, data[:64] if "/data/" in info.filename else data)
        with open(p, "rb") as f:
            put(out, "pytorch", "f16-truncated-storages-deflated.bin", f.read())


def seeds_config(out):
    seen = set()
    for d, _, files in os.walk(FIX):
        for n in files:
            if n.endswith("config.json"):
                data = open(os.path.join(d, n), "rb").read()
                h = hashlib.sha1(data).hexdigest()[:12]
                if h not in seen:
                    seen.add(h)
                    put(out, "config", h + "-" + n, data)


def seeds_vocab(out):
    put(out, "vocab", "tiny-vocab.txt", read("models/vocab.txt"))
    lines = read("minilm/vocab.txt").split(b"\n")
    put(out, "vocab", "minilm-head.txt", b"\n".join(lines[:1200] + lines[7000:7400]) + b"\n")
    put(out, "vocab", "crlf.txt", b"[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n##ing\r\n\xe6\x9d\xb1\r\n")


def seeds_artifact(out, bertc):
    with tempfile.TemporaryDirectory() as t:
        jobs = [
            ("tiny-encoder.bin", ["models/tiny-encoder"]),
            ("mask50.bin", ["masked/encoder-mask50", "--base", "models/tiny-encoder"]),
            ("delta.bin", ["masked/encoder-delta", "--base", "models/tiny-encoder",
                           "--passes", "verify,share-base,sparse-delta"]),
            ("csr.bin", ["masked/encoder-dead-neurons", "--base", "models/tiny-encoder",
                         "--passes", "verify,share-base,to-csr"]),
            ("classifier-csr.bin", ["masked/classifier-magnitude90", "--passes", "verify,to-csr"]),
        ]
        for name, args in jobs:
            model = os.path.join(FIX, args[0])
            rest = [os.path.join(FIX, a) if a.startswith(("models/", "masked/")) else a for a in args[1:]]
            dst = os.path.join(t, name)
            r = subprocess.run([bertc, "compile", model, *rest, "-o", dst], capture_output=True, text=True)
            if r.returncode != 0:
                sys.stderr.write(f"fuzz_corpus: skipping {name}: {r.stderr.strip()}\n")
                continue
            put(out, "artifact", name, open(dst, "rb").read())


def seeds_input(out):
    # First byte: bit 0 = jsonl, bit 1 = --skip-bad-lines (see FuzzEntry.input).
    tsv = read("eval/tiny-classifier-ft.tsv")
    jsonl = read("eval/tiny-classifier.jsonl")
    put(out, "input", "eval.tsv", b"\x00" + tsv)
    put(out, "input", "eval-skip.tsv", b"\x02" + tsv)
    put(out, "input", "eval.jsonl", b"\x01" + jsonl)
    put(out, "input", "eval-skip.jsonl", b"\x03" + jsonl)
    put(out, "input", "dev-head.tsv", b"\x00" + b"\n".join(read("rt/dev.tsv").split(b"\n")[:20]) + b"\n")
    put(out, "input", "pairs.tsv", b"\x02\xef\xbb\xbftext\ttext_b\tlabel\ttask\r\na\tb\tfresh\tt1\r\nbad\r\n\t\t\t\n")
    put(out, "input", "pairs.jsonl", b'\x03{"text": "a\\u00e9", "text_b": "b", "label": 1, "task": "t"}\n'
                                     b'[1]\n{"text": 3}\n  \n{"text": "x"}')


def seeds_ir(out):
    for d in ["verify", "to-csr", "share-base", "sparse-delta", "eliminate-zeros"]:
        for n in sorted(os.listdir(os.path.join(FIX, "passes", d))):
            if n.endswith(".ir"):
                # One case per seed (cases are split by "// -----").
                for i, case in enumerate(read(f"passes/{d}/{n}").split(b"// -----")):
                    put(out, "ir", f"{d}-{n[:-3]}-{i}.ir", case)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bertc", required=True, help="a built bertc binary (to compile the artifact seeds)")
    ap.add_argument("--out", default=os.path.join(ROOT, ".models", "fuzz-corpus"))
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    seeds_safetensors(a.out)
    seeds_tfindex(a.out)
    seeds_pytorch(a.out)
    seeds_config(a.out)
    seeds_vocab(a.out)
    seeds_artifact(a.out, a.bertc)
    seeds_input(a.out)
    seeds_ir(a.out)
    # Every regression input (fixtures/fuzz-regressions/<target>/) is a seed too.
    reg = os.path.join(FIX, "fuzz-regressions")
    for t in sorted(os.listdir(reg)) if os.path.isdir(reg) else []:
        for n in sorted(os.listdir(os.path.join(reg, t))):
            put(a.out, t, "regression-" + n, open(os.path.join(reg, t, n), "rb").read())
    for t in sorted(os.listdir(a.out)):
        files = os.listdir(os.path.join(a.out, t))
        size = sum(os.path.getsize(os.path.join(a.out, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
